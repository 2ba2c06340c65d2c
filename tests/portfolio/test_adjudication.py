"""Verdicts with GAO labels, audit, stale forms, reviewers' scope, assignment and precision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from stcoord.audit.models import AuditRecord
from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, PermissionDenied, Role
from stcoord.auth.service import actor_for
from stcoord.db.session import Database
from stcoord.errors import Conflict, ValidationFailed
from stcoord.portfolio import adjudication, screening
from stcoord.portfolio.models import ScreenPair, Verdict
from tests.helpers import make_user
from tests.portfolio.conftest import import_file


def _screened(db: Database, nsf_slice: Path) -> tuple[int, list[int]]:
    import_file(db, nsf_slice)
    with db.scope() as session:
        run_id = screening.create_run(session, SYSTEM, threshold=0.8).id
    screening.execute_run(db, SYSTEM, run_id)
    with db.scope(write=False) as session:
        ids = list(
            session.scalars(
                select(ScreenPair.id).where(ScreenPair.run_id == run_id).order_by(ScreenPair.id)
            )
        )
    return run_id, ids


def _actor(db: Database, username: str):  # type: ignore[no-untyped-def]
    with db.scope(write=False) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return actor_for(user)


def test_verdicts_are_audited_versioned_and_give_precision(db: Database, nsf_slice: Path) -> None:
    run_id, ids = _screened(db, nsf_slice)
    labels = ["duplication", "overlap", "unrelated", "complementary", "fragmentation"]
    for pair_id, label in zip(ids, labels, strict=False):
        with db.scope() as session:
            adjudication.record_verdict(
                session, SYSTEM, pair_id=pair_id, label=label, comment=f"checked {label}"
            )
    with db.scope() as session:  # a second opinion replaces the first
        adjudication.record_verdict(session, SYSTEM, pair_id=ids[2], label="Overlap", version=2)
    with db.scope() as session, pytest.raises(Conflict) as stale:
        adjudication.record_verdict(session, SYSTEM, pair_id=ids[2], label="unrelated", version=2)
    assert stale.value.current["verdict"] == "overlap"
    with db.scope() as session, pytest.raises(ValidationFailed):
        adjudication.record_verdict(session, SYSTEM, pair_id=ids[0], label="twin")
    with db.scope(write=False) as session:
        history = adjudication.verdict_history(session, SYSTEM, ids[2])
        assert [v.label for v in history] == ["unrelated", "overlap"]
        audits = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "portfolio.verdict")
        ).all()
        assert len(audits) == 6
        assert audits[-1].before["verdict"] == "unrelated"
        assert audits[-1].after["verdict"] == "overlap"
        report = adjudication.precision(session, SYSTEM, run_id=run_id, by="day")
    tally = report.runs[0].tally
    assert (tally.flagged, tally.adjudicated, tally.confirmed) == (len(ids), 5, 3)
    assert tally.precision == pytest.approx(0.6)
    assert tally.flagged_per_confirmed == pytest.approx(5 / 3)
    assert tally.by_label == {
        "duplication": 1,
        "overlap": 2,
        "fragmentation": 1,
        "complementary": 1,
        "unrelated": 0,
    }
    assert [p.cumulative.adjudicated for p in report.over_time] == [5]


def test_precision_over_time_is_cumulative(db: Database, nsf_slice: Path) -> None:
    _, ids = _screened(db, nsf_slice)
    for pair_id, label in zip(
        ids, ["duplication", "unrelated", "unrelated", "overlap"], strict=False
    ):
        with db.scope() as session:
            adjudication.record_verdict(session, SYSTEM, pair_id=pair_id, label=label)
    days = [
        dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 6, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 14, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
    ]
    with db.scope() as session:
        for pair_id, day in zip(ids, days, strict=False):
            session.execute(
                update(ScreenPair).where(ScreenPair.id == pair_id).values(verdict_at=day)
            )
    with db.scope(write=False) as session:
        report = adjudication.precision(session, SYSTEM, by="week")
    assert [(p.period, p.adjudicated, p.confirmed) for p in report.over_time] == [
        ("2026-01-05", 2, 1),
        ("2026-01-12", 2, 1),
    ]
    assert [p.cumulative.precision for p in report.over_time] == [0.5, 0.5]
    assert report.over_time[-1].cumulative.flagged_per_confirmed == 2.0


def test_reviewers_adjudicate_only_pairs_assigned_to_them(db: Database, nsf_slice: Path) -> None:
    _, ids = _screened(db, nsf_slice)
    make_user(db, "rev", Role.advisor)
    make_user(db, "look", Role.viewer)
    with db.scope() as session:
        assert adjudication.assign(session, SYSTEM, pair_ids=ids[:2], reviewer="rev") == 2
        with pytest.raises(ValidationFailed):
            adjudication.assign(session, SYSTEM, pair_ids=ids[:1], reviewer="look")
    reviewer = _actor(db, "rev")
    with db.scope() as session:
        adjudication.record_verdict(session, reviewer, pair_id=ids[0], label="overlap")
    with db.scope() as session, pytest.raises(PermissionDenied):
        adjudication.record_verdict(session, reviewer, pair_id=ids[2], label="overlap")
    with db.scope() as session, pytest.raises(PermissionDenied):
        adjudication.record_verdict(session, _actor(db, "look"), pair_id=ids[1], label="overlap")
    with db.scope() as session, pytest.raises(PermissionDenied):
        adjudication.assign(session, reviewer, pair_ids=ids[2:3], reviewer="rev")
    with db.scope(write=False) as session:
        assert [v.actor_name for v in session.scalars(select(Verdict))] == ["rev"]
        flt = screening.PairFilter(assigned_to=reviewer.user_id)
        mine, total = screening.list_pairs(session, reviewer, flt)
        assert total == 2 and {p.id for p in mine} == set(ids[:2])
