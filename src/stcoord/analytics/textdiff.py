"""What changed between two versions of a sectioned draft.

Sections are matched by key; each comes back as added, removed, changed or unchanged, changed
ones with word-level operations a page can highlight.

>>> d = diff_drafts({"a": "Invest in AI."}, {"a": "Invest more in AI.", "b": "New."})
>>> [(s.key, s.change) for s in d]
[('a', 'changed'), ('b', 'added')]
>>> [op for op in d[0].ops if op.kind != "equal"]
[WordOp(kind='insert', old='', new='more ')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class WordOp:
    kind: str  # equal | insert | delete | replace
    old: str
    new: str


@dataclass(frozen=True)
class SectionDiff:
    key: str
    change: str  # added | removed | changed | unchanged
    ops: tuple[WordOp, ...] = ()
    unified: str = ""


def _tokens(text: str) -> list[str]:
    # CJK text has no spaces: split it into characters so a one-character edit stays small.
    tokens = []
    for tok in _TOKEN.findall(text):
        if any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in tok):
            tokens.extend(tok)
        else:
            tokens.append(tok)
    return tokens


def word_ops(old: str, new: str) -> tuple[WordOp, ...]:
    a, b = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return tuple(
        WordOp(tag, "".join(a[i1:i2]), "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    )


def diff_drafts(old: Mapping[str, str], new: Mapping[str, str]) -> list[SectionDiff]:
    """Section-by-section differences, in the new version's order, then removed sections."""
    out = []
    for key, text in new.items():
        if key not in old:
            out.append(SectionDiff(key, "added", (WordOp("insert", "", text),)))
        elif old[key] == text:
            out.append(SectionDiff(key, "unchanged"))
        else:
            unified = "\n".join(
                difflib.unified_diff(
                    old[key].splitlines(), text.splitlines(), "old", "new", lineterm=""
                )
            )
            out.append(SectionDiff(key, "changed", word_ops(old[key], text), unified))
    for key, text in old.items():
        if key not in new:
            out.append(SectionDiff(key, "removed", (WordOp("delete", text, ""),)))
    return out
