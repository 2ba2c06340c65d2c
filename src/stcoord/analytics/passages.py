"""Matching passages of two texts, as character offsets, for showing a pair side by side.

Both texts are cut into tokens: words (letters and digits, compared in lower case) and, for
Chinese, Japanese and Korean, single characters, so CJK text matches character by character.
Every run of at least ``min_words`` tokens that appears in both texts is found (seeded by
shared ``min_words``-grams, grown along its diagonal), runs a few tokens apart on both sides
are joined (``max_gap``, so a changed or dropped word does not break a highlighted sentence),
and overlapping runs are resolved longest first, so each token is highlighted at most once.
Passages come back in the order they appear in ``left``; a passage may sit anywhere in
``right`` (reordered sentences are found).

>>> a = "We will map coral reefs with drones. Outreach to local schools is planned."
>>> b = "Outreach to local schools is planned. We map coral reefs with drones and divers."
>>> for p in matching_passages(a, b):
...     print(repr(a[p.left_start:p.left_end]), "~", repr(b[p.right_start:p.right_end]))
'map coral reefs with drones' ~ 'map coral reefs with drones'
'Outreach to local schools is planned' ~ 'Outreach to local schools is planned'
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]"
    r"|[^\W_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]+"
)


@dataclass(frozen=True)
class Passage:
    """Character offsets (``start`` inclusive, ``end`` exclusive) of one passage in each text."""

    left_start: int
    left_end: int
    right_start: int
    right_end: int


def tokens(text: str) -> list[tuple[str, int, int]]:
    """``(normalised token, start, end)`` for each word or CJK character.

    >>> tokens("AI研究 for all")
    [('ai', 0, 2), ('研', 2, 3), ('究', 3, 4), ('for', 5, 8), ('all', 9, 12)]
    """
    return [(m.group().casefold(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def matching_passages(
    left: str, right: str, *, min_words: int = 5, max_gap: int = 2
) -> list[Passage]:
    """Passages shared by ``left`` and ``right`` (at least ``min_words`` tokens each).

    ``max_gap`` joins two runs that follow each other in both texts with at most that many
    unmatched tokens between them on each side (0 keeps only verbatim runs).

    >>> matching_passages("one two three four five six", "zero two three four five six seven")
    [Passage(left_start=4, left_end=27, right_start=5, right_end=28)]
    >>> matching_passages("研究開発の推進に関する事業", "人材育成と研究開発の推進")
    [Passage(left_start=0, left_end=7, right_start=5, right_end=12)]
    """
    if min_words < 1:
        raise ValueError("min_words must be at least 1")
    lt, rt = tokens(left), tokens(right)
    lw = [t[0] for t in lt]
    rw = [t[0] for t in rt]
    k = min_words
    if len(lw) < k or len(rw) < k:
        return []
    seeds: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i in range(len(lw) - k + 1):
        seeds[tuple(lw[i : i + k])].append(i)
    # Maximal verbatim runs: (left start, right start, length), grown along each diagonal.
    runs: list[tuple[int, int, int]] = []
    covered: set[tuple[int, int]] = set()  # (diagonal, left index) already inside a run
    for j in range(len(rw) - k + 1):
        for i in seeds.get(tuple(rw[j : j + k]), ()):
            if (i - j, i) in covered:
                continue
            a, b = i, j
            while a > 0 and b > 0 and lw[a - 1] == rw[b - 1]:
                a, b = a - 1, b - 1
            n = 0
            while a + n < len(lw) and b + n < len(rw) and lw[a + n] == rw[b + n]:
                covered.add((a - b, a + n))
                n += 1
            runs.append((a, b, n))
    # Longest first; a run keeps only if neither side overlaps a run already kept.
    runs.sort(key=lambda r: (-r[2], r[0], r[1]))
    used_l = [False] * len(lw)
    used_r = [False] * len(rw)
    kept: list[tuple[int, int, int, int]] = []  # left start, left end, right start, right end
    for a, b, n in runs:
        if any(used_l[a : a + n]) or any(used_r[b : b + n]):
            continue
        for x in range(a, a + n):
            used_l[x] = True
        for y in range(b, b + n):
            used_r[y] = True
        kept.append((a, a + n, b, b + n))
    kept.sort()
    merged: list[list[int]] = []
    for a0, a1, b0, b1 in kept:
        if merged:
            p = merged[-1]
            if 0 <= a0 - p[1] <= max_gap and 0 <= b0 - p[3] <= max_gap:
                p[1], p[3] = a1, b1
                continue
        merged.append([a0, a1, b0, b1])
    return [
        Passage(lt[a0][1], lt[a1 - 1][2], rt[b0][1], rt[b1 - 1][2]) for a0, a1, b0, b1 in merged
    ]


def shared_fraction(left: str, right: str, *, min_words: int = 5) -> tuple[float, float]:
    """Share of each text's tokens inside matching passages: ``(of left, of right)``.

    A partial copy shows up as a high share of the shorter text even when the cosine of the
    whole texts is modest.

    >>> shared_fraction("a b c d e f g h", "a b c d e x y z q r s t u v w", min_words=3)
    (0.625, 0.333333)
    """
    lt, rt = tokens(left), tokens(right)
    if not lt or not rt:
        return 0.0, 0.0
    nl = nr = 0
    for p in matching_passages(left, right, min_words=min_words, max_gap=0):
        nl += sum(1 for t in lt if p.left_start <= t[1] < p.left_end)
        nr += sum(1 for t in rt if p.right_start <= t[1] < p.right_end)
    return round(nl / len(lt), 6), round(nr / len(rt), 6)
