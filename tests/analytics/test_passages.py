"""Matching passages for showing a flagged pair side by side (real NSF abstracts, Japanese)."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest

from stcoord.analytics.passages import Passage, matching_passages, shared_fraction, tokens

NSF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nsf" / "awards.jsonl"


def abstracts(n: int) -> list[str]:
    out = []
    with NSF.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["abstract"] or ""
            if len(text) > 800:
                out.append(text)
            if len(out) == n:
                break
    return out


def test_identical_texts_match_as_one_passage() -> None:
    text = abstracts(1)[0]
    end = tokens(text)[-1][2]  # the last word; trailing punctuation is not a token
    assert matching_passages(text, text) == [Passage(0, end, 0, end)]


def test_a_copied_half_is_found_where_it_stands_in_each_text() -> None:
    a, b = abstracts(2)
    sentences = re.split(r"(?<=[.!?])\s+", a.strip())
    half = " ".join(sentences[len(sentences) // 2 :])
    copy = b[:400] + " " + half
    found = matching_passages(a, copy)
    longest = max(found, key=lambda p: p.left_end - p.left_start)
    words = [t[0] for t in tokens(a[longest.left_start : longest.left_end])]
    assert words == [t[0] for t in tokens(copy[longest.right_start : longest.right_end])]
    assert longest.right_start > 400
    assert longest.left_end - longest.left_start >= 0.9 * len(half)
    share_a, share_copy = shared_fraction(a, copy)
    assert share_a >= 0.4 and share_copy >= 0.6


def test_reworded_copy_keeps_most_text_highlighted() -> None:
    a = abstracts(3)[2]
    rng = random.Random(2)
    words = a.split()
    reworded = " ".join(w for w in words if rng.random() > 0.05)
    passages = matching_passages(a, reworded)
    covered = sum(p.left_end - p.left_start for p in passages)
    assert covered >= 0.7 * len(a)
    for p in passages:  # each passage is the same words on both sides
        left = [t[0] for t in tokens(a[p.left_start : p.left_end])]
        right = [t[0] for t in tokens(reworded[p.right_start : p.right_end])]
        assert len(left) >= 5 and len(right) >= 5


def test_passages_do_not_overlap_and_come_in_left_order() -> None:
    a, b = abstracts(2)
    text = a + " " + a[:600]
    passages = matching_passages(text, b + " " + a)
    lefts = [(p.left_start, p.left_end) for p in passages]
    assert lefts == sorted(lefts)
    assert all(x[1] <= y[0] for x, y in itertools.pairwise(lefts))
    rights = sorted((p.right_start, p.right_end) for p in passages)
    assert all(x[1] <= y[0] for x, y in itertools.pairwise(rights))


def test_unrelated_texts_share_only_the_nsf_boilerplate() -> None:
    a, b = abstracts(2)
    found = matching_passages(a, b, min_words=8)
    assert [a[p.left_start : p.left_end][:27] for p in found] == ["This award reflects NSF's s"]


def test_japanese_matches_by_characters() -> None:
    left = "次世代人工知能技術の研究開発と社会実装の推進に必要な経費"
    right = "人材育成と次世代人工知能技術の研究開発事業"
    (p,) = matching_passages(left, right)
    assert left[p.left_start : p.left_end] == "次世代人工知能技術の研究開発"
    assert right[p.right_start : p.right_end] == "次世代人工知能技術の研究開発"


def test_min_words_is_respected_and_validated() -> None:
    assert matching_passages("one two three four", "one two three four", min_words=5) == []
    assert len(matching_passages("one two three four", "one two three four", min_words=4)) == 1
    with pytest.raises(ValueError):
        matching_passages("a", "a", min_words=0)
