"""The procedure engine on both databases: gates refuse with every reason, decisions are checked
against the mechanism, and the timeline records who did what and when."""

import datetime as dt

import pytest

from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.db.session import Database
from stcoord.errors import Conflict, ValidationFailed
from stcoord.plans import service
from stcoord.plans.service import GateBlocked
from stcoord.plans.status import plan_status
from tests.plans.conftest import OPENED, PLAN, QUORATE

D = dt.date


def advance(db: Database, on: dt.date):  # type: ignore[no-untyped-def]
    with db.scope() as session:
        return service.advance(session, SYSTEM, plan_key=PLAN, on_date=on)


def test_opening_copies_the_template_and_opens_the_first_stage(plan_db: Database) -> None:
    with plan_db.scope(write=False) as session:
        plan = service.get_plan(session, SYSTEM, PLAN)
        assert [(s.key, s.status) for s in plan.stages] == [
            ("consult", "open"),
            ("draft", "pending"),
            ("decide", "pending"),
        ]
        assert plan.stages[0].actual_start == OPENED
        assert plan.stages[0].channels == ["rfi"]
    with pytest.raises(Conflict), plan_db.scope() as session:
        service.open_plan(session, SYSTEM, code="XA", template_key="ai_plan", key=PLAN, title="x")
    with pytest.raises(ValidationFailed) as info, plan_db.scope() as session:
        service.open_plan(session, SYSTEM, code="XA", template_key="nope", key="p2", title=" ")
    assert [d["path"] for d in info.value.details] == ["template_key", "title"]


def test_gate_refuses_with_every_unmet_condition_then_lets_the_plan_through(
    plan_db: Database,
) -> None:
    with pytest.raises(GateBlocked) as info:
        advance(plan_db, D(2024, 2, 1))
    assert [d["message"] for d in info.value.details] == ["no input yet from industry, academia"]
    with plan_db.scope() as session:
        service.record_input(
            session,
            SYSTEM,
            plan_key=PLAN,
            channel="industry",
            organisation="Atlantis Robotics",
            summary="Fund compute",
            on_date=D(2024, 1, 20),
        )
    with pytest.raises(GateBlocked) as info:
        advance(plan_db, D(2024, 2, 1))
    assert [d["message"] for d in info.value.details] == ["no input yet from academia"]
    with plan_db.scope() as session:
        service.record_input(
            session,
            SYSTEM,
            plan_key=PLAN,
            channel="academia",
            summary="Open datasets",
            on_date=D(2024, 1, 25),
        )
    nxt = advance(plan_db, D(2024, 2, 1))
    assert nxt is not None and nxt.key == "draft"
    assert advance(plan_db, D(2024, 3, 1)).key == "decide"  # the draft stage has no gate
    with pytest.raises(GateBlocked) as info:
        advance(plan_db, D(2024, 4, 1))
    assert [d["message"] for d in info.value.details] == [
        "no valid approving decision by council is on record"
    ]


def _to_decision_stage(db: Database) -> None:
    with db.scope() as session:
        for channel in ("industry", "academia"):
            service.record_input(session, SYSTEM, plan_key=PLAN, channel=channel, summary="x")
    advance(db, D(2024, 2, 1))
    advance(db, D(2024, 3, 1))


def decide(db: Database, **kw):  # type: ignore[no-untyped-def]
    args = {
        "plan_key": PLAN,
        "body": "council",
        "on_date": D(2024, 4, 1),
        "attendees": QUORATE,
        "outcome": "approved",
        "consensus": True,
    } | kw
    with db.scope() as session:
        return service.record_decision(session, SYSTEM, **args)


def test_decisions_are_refused_when_the_mechanism_forbids_them(plan_db: Database) -> None:
    _to_decision_stage(plan_db)
    with pytest.raises(ValidationFailed) as info:
        decide(plan_db, body="finance")
    assert "holds no power to decide" in info.value.details[0]["message"]
    short = [QUORATE[0], {"role": "member", "holder_type": "minister", "present": 1}]
    with pytest.raises(ValidationFailed) as info:
        decide(plan_db, attendees=short)
    messages = [d["message"] for d in info.value.details]
    assert "quorum not met" in messages
    assert "majority of members: 1 present, 3 needed (not met)" in messages
    with pytest.raises(ValidationFailed) as info:
        decide(plan_db, consensus=False)
    assert "the chair (present) did not decide" in info.value.details[0]["message"]
    with pytest.raises(ValidationFailed):
        decide(plan_db, attendees=[{"role": "chair"}])

    record = decide(plan_db, minutes="Adopted unanimously.")
    assert record.quorum_report == [
        "chair: 1 present, 1 needed (met)",
        "majority of members: 3 present, 3 needed (met)",
    ]
    assert advance(plan_db, D(2024, 4, 2)) is None
    with plan_db.scope(write=False) as session:
        plan = service.get_plan(session, SYSTEM, PLAN)
        assert plan.status == "completed"
        assert [s.status for s in plan.stages] == ["closed"] * 3
        assert plan.stages[2].actual_end == D(2024, 4, 2)


def test_timeline_records_who_did_what_and_when(plan_db: Database) -> None:
    coordinator = Actor(username="kana", role=Role.coordinator)
    with plan_db.scope() as session:
        service.record_input(
            session,
            coordinator,
            plan_key=PLAN,
            channel="industry",
            summary="x",
            on_date=D(2024, 1, 12),
        )
        service.record_input(session, coordinator, plan_key=PLAN, channel="academia", summary="y")
        service.advance(session, coordinator, plan_key=PLAN, on_date=D(2024, 1, 31))
    with plan_db.scope(write=False) as session:
        events = service.timeline(session, SYSTEM, PLAN)
    assert [(e.kind, e.actor_name) for e in events] == [
        ("opened", "system"),
        ("input", "kana"),
        ("input", "kana"),
        ("advanced", "kana"),
    ]
    assert events[-1].detail == {"closed": "consult", "opened": "draft"}
    assert events[-1].on_date == D(2024, 1, 31)


def test_only_coordinators_run_the_procedure(plan_db: Database) -> None:
    for role in (Role.liaison, Role.advisor, Role.viewer, Role.stakeholder):
        with pytest.raises(PermissionDenied), plan_db.scope() as session:
            service.advance(session, Actor(username="x", role=role), plan_key=PLAN)


def test_status_reports_the_stage_and_what_blocks_it(plan_db: Database) -> None:
    with plan_db.scope(write=False) as session:
        status = plan_status(session, SYSTEM, PLAN, today=D(2024, 1, 15))
    assert (status.current_stage, [u.kind for u in status.unmet]) == ("consult", ["channels_heard"])


def test_a_stage_cannot_close_before_it_opened(plan_db: Database) -> None:
    with plan_db.scope() as session:
        for channel in ("industry", "academia"):
            service.record_input(session, SYSTEM, plan_key=PLAN, channel=channel, summary="x")
    with pytest.raises(ValidationFailed):
        advance(plan_db, D(2023, 12, 31))


def test_bad_inputs_are_refused(plan_db: Database) -> None:
    with pytest.raises(ValidationFailed) as info, plan_db.scope() as session:
        service.record_input(session, SYSTEM, plan_key=PLAN, channel="gossip", summary=" ")
    assert [d["path"] for d in info.value.details] == ["channel", "summary"]
    with pytest.raises(ValidationFailed) as info, plan_db.scope() as session:
        service.record_input(session, SYSTEM, plan_key=PLAN, channel="advisory", summary="ok")
    assert info.value.details[0]["path"] == "body"
