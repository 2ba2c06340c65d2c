"""The office's live dashboard on a two-camp conversation: opinion groups, representative
statements, consensus, divisive statements, agreement by sector, and the participants chart."""

from __future__ import annotations

from stcoord.auth.permissions import SYSTEM
from stcoord.consultation import dashboard, pages
from stcoord.db.session import Database
from tests.consultation.conftest import KEY, conversation


def test_groups_consensus_and_sectors_from_the_votes(cdb: Database) -> None:
    conversation(cdb)
    with cdb.scope(write=False) as session:
        d = dashboard.dashboard(session, SYSTEM, KEY)
    a = d.analysis
    assert (a.participants, a.voters, a.statements, a.votes, a.excluded) == (20, 20, 9, 200, [10])
    # two groups of ten, each exactly one sector
    assert sorted((g.size, tuple(g.sectors.items())) for g in a.groups) == [
        (10, (("academia", 10),)),
        (10, (("industry", 10),)),
    ]
    by_sector = {next(iter(g.sectors)): g for g in a.groups}
    industry_agrees = {
        r["statement"] for r in by_sector["industry"].representative if r["direction"] == "agree"
    }
    academia_agrees = {
        r["statement"] for r in by_sector["academia"].representative if r["direction"] == "agree"
    }
    assert industry_agrees <= {1, 2, 3, 4} and industry_agrees
    assert academia_agrees <= {5, 6, 7, 8} and academia_agrees
    # statement 9 is the one everyone agrees with; the moderated statement 10 is never reported
    assert [(s["statement"], s["direction"]) for s in a.consensus] == [(9, "agree")]
    assert a.consensus[0]["text"] == "Publish the plan's evidence"
    assert {s["statement"] for s in a.divisive} <= set(range(1, 9))
    assert a.divisive and all(s["score"] > 0.8 for s in a.divisive)
    assert 10 not in {r["statement"] for r in a.sector_agreement}
    one = {r["sector"]: r for r in a.sector_agreement if r["statement"] == 1}
    assert (one["industry"]["agree_share"], one["academia"]["agree_share"]) == (1.0, 0.0)
    assert (one["industry"]["votes"], one["academia"]["votes"]) == (10, 10)
    # the chart: twenty points, the two camps on opposite sides of the first component
    assert len(a.points) == 20
    xs = {p["sector"]: [] for p in a.points}
    for p in a.points:
        xs[p["sector"]].append(p["x"])
    assert max(xs["industry"]) < min(xs["academia"]) or max(xs["academia"]) < min(xs["industry"])
    assert a.explained_variance[0] > 0.9
    chart = pages.chart_for(d, "ja", with_names=False)
    assert chart is not None
    assert chart.spec["encoding"]["color"]["scale"]["domain"][:2] == ["A", "B"]
    assert "name" not in chart.spec["data"]["values"][0]
    assert chart.spec["config"]["font"] == "Noto Sans CJK JP"
    assert "<svg" in str(chart.svg)
    # who was heard: the conversation counts for rfi (open) and both sectors' channels
    assert [(c.channel, c.heard, c.through_this) for c in d.channels] == [
        ("industry", True, True),
        ("academia", True, True),
        ("rfi", True, True),
    ]
    assert d.gate == []  # both channels heard, no comments to answer


def test_too_few_votes_gives_a_message_not_a_map(cdb: Database) -> None:
    with cdb.scope(write=False) as session:
        d = dashboard.dashboard(session, SYSTEM, KEY)
    assert d.analysis.groups == [] and d.analysis.message is not None
    assert [u.message for u in d.gate] == ["no input yet from industry, academia"]
    assert [(h.sector, h.participants) for h in d.heard] == [
        ("ministry", 0),
        ("industry", 0),
        ("academia", 0),
        ("civil_society", 0),
        ("individual", 0),
    ]
