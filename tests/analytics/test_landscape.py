"""Topic landscape, fragmentation (Herfindahl) and money against priorities, on real NSF awards."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stcoord.analytics.landscape import (
    fragmentation,
    herfindahl,
    map_to_fields,
    priority_gaps,
    topic_landscape,
)

NSF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nsf" / "awards.jsonl"


def awards(directorates: tuple[str, ...], per: int) -> list[dict]:
    out: list[dict] = []
    seen: Counter[str] = Counter()
    with NSF.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            d = r.get("directorate")
            if d in directorates and seen[d] < per and len(r["abstract"] or "") > 500:
                seen[d] += 1
                out.append(r)
    return out


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    # Three directorates whose fields differ (engineering, computing and physical sciences
    # overlap too much for a 3-topic test: purity ~0.5 there).
    return awards(
        (
            "Direct For Biological Sciences",
            "Directorate For Geosciences",
            "Direct For Education and Human Resources",
        ),
        60,
    )


def test_topics_follow_the_directorates(sample: list[dict]) -> None:
    land = topic_landscape([r["abstract"] for r in sample], n_topics=3)
    assert len(land.labels) == len(sample) and len(land.topics) == 3
    assert sum(t.size for t in land.topics) == len(sample)
    assert [t.size for t in land.topics] == sorted((t.size for t in land.topics), reverse=True)
    # Purity: the share of texts whose topic's majority directorate is their own.
    majority = {}
    for k in range(3):
        members = [r["directorate"] for r, lab in zip(sample, land.labels, strict=True) if lab == k]
        majority[k] = Counter(members).most_common(1)[0][0]
    pure = sum(
        majority[lab] == r["directorate"] for r, lab in zip(sample, land.labels, strict=True)
    )
    assert pure / len(sample) >= 0.6
    assert all(len(t.terms) >= 5 for t in land.topics)


def test_number_of_topics_is_chosen_from_the_data_and_deterministic(sample: list[dict]) -> None:
    texts = [r["abstract"] for r in sample]
    a = topic_landscape(texts)
    assert 2 <= len(a.topics) <= 13
    assert topic_landscape(texts) == a


def test_herfindahl() -> None:
    assert herfindahl({"NSF": 1.0}) == 1.0
    assert herfindahl({"a": 1, "b": 1, "c": 1, "d": 1}) == 0.25
    assert herfindahl({}) == 0.0
    with pytest.raises(ValueError):
        herfindahl({"a": -1.0})


def test_fragmentation_per_topic_with_real_amounts(sample: list[dict]) -> None:
    land = topic_landscape([r["abstract"] for r in sample], n_topics=3)
    frag = fragmentation(
        land.labels, [r["division"] for r in sample], [float(r["amount"] or 0) for r in sample]
    )
    assert [f.topic for f in frag] == [0, 1, 2]
    total = sum(float(r["amount"] or 0) for r in sample)
    assert sum(f.total for f in frag) == pytest.approx(total, abs=1.0)
    for f in frag:
        assert 1 / f.n_agencies - 1e-6 <= f.hhi <= 1.0
        assert f.n_agencies == len(f.by_agency)
        assert f.hhi == herfindahl(dict(f.by_agency))
    with pytest.raises(ValueError):
        fragmentation([0], ["a", "b"], [1.0])


def test_map_to_fields_and_gaps() -> None:
    fields = {
        "ai": "artificial intelligence machine learning neural networks data",
        "bio": "biology genomics cells proteins organisms",
        "climate": "climate ocean atmosphere carbon warming",
    }
    texts = [
        "We train neural networks with machine learning on large data sets.",
        "Proteins fold inside cells of many organisms; genomics helps.",
        "Ocean carbon uptake under climate warming.",
        "Zzz qqq.",
    ]
    matches = map_to_fields(texts, fields, min_score=0.05)
    assert [m.field for m in matches] == ["ai", "bio", "climate", None]
    assert all(0.0 <= m.score <= 1.0 for m in matches)
    money = {"ai": 70.0, "bio": 30.0}
    gaps = priority_gaps(money, {"ai": 1, "bio": 1, "climate": 2})
    assert [g.field for g in gaps] == ["climate", "bio", "ai"]
    assert gaps[0].gap == -0.5 and gaps[0].money == 0.0
    assert sum(g.money_share for g in gaps) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        priority_gaps({"a": -1.0}, {"a": 1})
    with pytest.raises(ValueError):
        map_to_fields(texts, {})


def test_map_topics_given_as_terms() -> None:
    fields = {"quantum": "quantum qubits entanglement", "space": "satellites orbit space launch"}
    matches = map_to_fields([("qubit", "quantum", "entanglement"), ("orbit", "satellites")], fields)
    assert [m.field for m in matches] == ["quantum", "space"]
