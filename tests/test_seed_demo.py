"""``stcoord seed --demo-data``: NSF awards with a finished screen, a consultation holding a real
Polis conversation (plus a small public-comment one) and an advisory report, loaded through each
domain's services; the real parts are read from the shared data folder at seed time (a missing
folder skips them with a line saying so); seeding again adds nothing."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from stcoord.advisory import service as advisory
from stcoord.advisory.models import AdvisoryReport, Recommendation, Response
from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM
from stcoord.cli.main import app
from stcoord.consultation import dashboard
from stcoord.consultation import service as consultation
from stcoord.consultation.models import Consultation, Statement, Vote
from stcoord.db.session import Database
from stcoord.plans.models import StageInput
from stcoord.portfolio import screening
from stcoord.portfolio.models import Project, ScreenPair, ScreenRun
from stcoord.portfolio.projects import list_projects
from stcoord.seed import (
    DEMO_CONVERSATION,
    DEMO_PLAN,
    DEMO_PUBLIC_COMMENT,
    DEMO_REPORT,
    DEMO_STAGE,
    seed,
)
from tests.conftest import point_cli_at

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

TABLES = (
    Project,
    ScreenRun,
    ScreenPair,
    Consultation,
    Statement,
    Vote,
    StageInput,
    AdvisoryReport,
    Recommendation,
    Response,
    AuditRecord,
)


def _awards() -> list[dict[str, object]]:
    """The demo subset, derived here from the shared files by the documented rule: every award
    of every 5th collaborative group, plus every 40th award of those in no group, file order."""
    groups = json.loads((DATA / "nsf" / "collaborative-groups.json").read_text())["groups"]
    lines = (DATA / "nsf" / "awards.jsonl").read_text(encoding="utf-8").split("\n")
    awards = [json.loads(line) for line in lines if line.strip()]
    grouped = {i for g in groups for i in g}
    ungrouped = [str(a["award_id"]) for a in awards if str(a["award_id"]) not in grouped]
    keep = {i for g in groups[::5] for i in g} | set(ungrouped[::40])
    return [a for a in awards if str(a["award_id"]) in keep]


def _collaborative_pairs(awards: list[dict[str, object]]) -> set[frozenset[str]]:
    """Pairs of shipped awards that are one "Collaborative Research" project (same title after
    lower-casing and dropping punctuation, as ../shared/data/nsf/collaborative-groups.json)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for a in awards:
        title = re.sub(r"[^\w\s]", "", str(a["title"]).lower())
        title = " ".join(title.split())
        if title.startswith("collaborative research"):
            groups[title].append(str(a["award_id"]))
    return {frozenset(p) for ids in groups.values() for p in combinations(sorted(ids), 2)}


def _counts(db: Database) -> dict[str, int]:
    with db.scope(write=False) as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in TABLES
        }


def test_plain_seed_loads_no_demo_data(db: Database) -> None:
    counts = _counts(db)
    assert counts["portfolio_project"] == 0
    assert counts["consultation"] == 0
    assert counts["advisory_report"] == 0


def test_demo_data_fills_portfolio_consultations_and_advisory(db: Database) -> None:
    with db.scope() as session:
        result = seed(session, demo_data=True, data_dir=DATA)
    assert len(result.demo_created) == 5 and result.demo_skipped == []

    awards = _awards()
    assert len(awards) == 129
    with db.scope(write=False) as session:
        # portfolio: every shipped award, one finished screen whose flagged pairs hold every
        # pair of a collaborative group (the real duplicates) among the shipped awards
        projects, total = list_projects(session, SYSTEM, source="nsf", limit=500)
        assert total == len(awards)
        assert {p.external_id for p in projects} == {str(a["award_id"]) for a in awards}
        [run] = screening.list_runs(session, SYSTEM)
        assert run.status == "done" and run.kind == "portfolio"
        assert run.project_count == len(awards)
        pairs, pair_total = screening.list_pairs(
            session, SYSTEM, screening.PairFilter(run_id=run.id), limit=None
        )
        assert pair_total == run.pair_count == len(pairs) > 0
        flagged = {
            frozenset((p["left"], p["right"]))
            for p in screening.stored_pairs(session, SYSTEM, run.id)
        }
        collaborative = _collaborative_pairs(awards)
        assert len(collaborative) >= 23
        assert collaborative <= flagged

        # consultation: the Polis conversation on the plan stage, with opinion groups
        board = dashboard.dashboard(session, SYSTEM, DEMO_CONVERSATION)
        assert (board.plan_key, board.stage.key) == (DEMO_PLAN, DEMO_STAGE)
        assert board.consultation.kind == "conversation"
        assert board.analysis.participants == 204
        assert board.analysis.statements == 50
        assert len(board.analysis.groups) >= 2
        assert sum(g.size for g in board.analysis.groups) <= 204
        assert "CC BY 4.0" in (board.consultation.description or "")
        comments = consultation.list_comments(session, SYSTEM, key=DEMO_PUBLIC_COMMENT)
        assert len(comments) == 2
        assert all("Illustrative demo value" in row.comment.text for row in comments)
        public = dashboard.dashboard(session, SYSTEM, DEMO_PUBLIC_COMMENT)
        assert (public.comments, public.answered) == (2, 1)

        # advisory: the numbered recommendations in the tracker, responses and statuses
        rows = advisory.tracker_rows(session, SYSTEM, advisory.TrackerFilter(report=DEMO_REPORT))
        assert [r.rec.number for r in rows] == ["1", "2", "3", "4", "5"]
        assert [r.position for r in rows] == [
            "accept",
            "partly_accept",
            "accept",
            "reject",
            None,
        ]
        assert [r.rec.status for r in rows] == [
            "partly_addressed",
            "open",
            "fully_addressed",
            "open",
            "open",
        ]
        assert [[t.code for t in r.tasks] for r in rows] == [
            ["US-T01"],
            ["US-T07"],
            ["US-T02"],
            [],
            [],
        ]
        assert all(r.rec.text.startswith("Illustrative demo value") for r in rows)
        assert "illustrative demo value" in rows[0].report.title
        assert rows[0].report.unverified


def test_missing_data_folder_skips_the_real_parts(db: Database, tmp_path: Path) -> None:
    with db.scope() as session:
        result = seed(session, demo_data=True, data_dir=tmp_path)
    hint = "not found (set --data-dir or STCOORD_DATA_DIR)"
    assert result.demo_skipped == [
        f"portfolio: skipped, {tmp_path / 'nsf' / 'awards.jsonl'} {hint}",
        f"consultation {DEMO_CONVERSATION}: skipped, {tmp_path / 'polis' / 'brexit-consensus'} "
        + hint,
    ]
    assert result.demo_created == [
        f"consultation {DEMO_PUBLIC_COMMENT}: 2 comments",
        f"advisory report {DEMO_REPORT}: 5 recommendations",
    ]
    counts = _counts(db)
    assert counts["portfolio_project"] == counts["portfolio_screen_run"] == 0
    assert counts["consultation"] == 1 and counts["advisory_report"] == 1
    with db.scope(write=False) as session:
        assert (
            len(advisory.tracker_rows(session, SYSTEM, advisory.TrackerFilter(report=DEMO_REPORT)))
            == 5
        )

    # awards present but the groups file missing: the portfolio part is still skipped whole
    (tmp_path / "nsf").mkdir()
    (tmp_path / "nsf" / "awards.jsonl").write_bytes((DATA / "nsf" / "awards.jsonl").read_bytes())
    with db.scope() as session:
        again = seed(session, demo_data=True, data_dir=tmp_path)
    assert again.demo_created == []
    assert again.demo_skipped[0] == (
        f"portfolio: skipped, {tmp_path / 'nsf' / 'collaborative-groups.json'} {hint}"
    )
    assert _counts(db)["portfolio_project"] == 0

    # the right folder later adds what was skipped, and only that
    with db.scope() as session:
        later = seed(session, demo_data=True, data_dir=DATA)
    assert later.demo_skipped == []
    assert [line.split(":")[0] for line in later.demo_created] == [
        "portfolio",
        "portfolio",
        f"consultation {DEMO_CONVERSATION}",
    ]


def test_seeding_demo_data_twice_is_a_no_op(db: Database) -> None:
    with db.scope() as session:
        seed(session, demo_users=True, demo_data=True, data_dir=DATA)
    before = _counts(db)
    with db.scope() as session:
        result = seed(session, demo_users=True, demo_data=True, data_dir=DATA)
    assert result.demo_created == [] and result.demo_skipped == []
    assert result.users_created == [] and result.plans_created == []
    assert _counts(db) == before


def test_cli_seed_demo_data_twice(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("STCOORD_DATA_DIR", str(DATA))  # first run: folder from the environment
    with point_cli_at(db, monkeypatch):
        first = runner.invoke(app, ["seed", "--demo-data"])
        assert first.exit_code == 0, first.output
        assert "demo data: portfolio: 129 NSF awards imported" in first.output
        assert f"demo data: advisory report {DEMO_REPORT}" in first.output
        assert "skipped" not in first.output
        audit = _counts(db)["audit_record"]
        again = runner.invoke(app, ["seed", "--demo-data", "--data-dir", str(DATA), "--json"])
        assert again.exit_code == 0, again.output
        assert json.loads(again.output)["demo_created"] == []
        assert json.loads(again.output)["demo_skipped"] == []
        assert _counts(db)["audit_record"] == audit


def test_cli_seed_prints_the_skipped_parts(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder"
    with point_cli_at(db, monkeypatch):
        result = CliRunner().invoke(app, ["seed", "--demo-data", "--data-dir", str(missing)])
    assert result.exit_code == 0, result.output
    assert (
        f"demo data: portfolio: skipped, {missing / 'nsf' / 'awards.jsonl'} not found "
        "(set --data-dir or STCOORD_DATA_DIR)"
    ) in result.output.splitlines()
    assert f"demo data: consultation {DEMO_CONVERSATION}: skipped" in result.output
    assert f"demo data: advisory report {DEMO_REPORT}: 5 recommendations" in result.output
