"""Plan content on both databases: drafts and diffs, the goal tree, tasks, progress, status."""

import datetime as dt

import pytest
from sqlalchemy import select

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.db.session import Database
from stcoord.errors import Conflict, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.plans import service
from stcoord.plans.status import alignment, plan_status
from tests.plans.conftest import PLAN

D = dt.date


def body_id(db: Database, key: str) -> int:
    with db.scope(write=False) as session:
        return int(
            session.scalars(
                select(Body.id).join(Jurisdiction).where(Jurisdiction.code == "XA", Body.key == key)
            ).one()
        )


def build_tree(db: Database) -> None:
    with db.scope() as session:
        add = dict(session=session, actor=SYSTEM, plan_key=PLAN)
        service.add_goal(**add, code="G1", kind="goal", title="Lead in AI")
        service.add_goal(
            **add, code="O1", kind="objective", title="Research", parent="G1", weight=3
        )
        service.add_goal(**add, code="O2", kind="objective", title="People", parent="G1")
        service.add_task(
            **add,
            code="T1",
            title="Compute",
            goal="O1",
            lead_body="research",
            supporting=["agency"],
            budget_link="AI-01",
        )
        service.add_task(**add, code="T2", title="Scholarships", goal="O2", lead_body="finance")
        service.add_milestone(
            **add,
            task_code="T1",
            code="M1",
            title="Tender",
            due=D(2024, 3, 1),
            completed_on=D(2024, 2, 20),
        )
        service.add_milestone(**add, task_code="T1", code="M2", title="Install", due=D(2024, 9, 1))
        service.add_indicator(
            **add,
            code="I1",
            name="AI R&D budget",
            unit="billion",
            baseline=1.0,
            target=2.0,
            direction="increase",
            baseline_date=D(2024, 1, 1),
            deadline=D(2026, 1, 1),
            task="T1",
        )


def test_drafts_are_versioned_and_diffed(plan_db: Database) -> None:
    with plan_db.scope() as session:
        one = service.add_draft(
            session,
            SYSTEM,
            plan_key=PLAN,
            title="First",
            sections=[
                {"key": "intro", "heading": "Introduction", "text": "We will invest in AI."},
                {"key": "budget", "heading": "Budget", "text": "¥1 billion."},
            ],
        )
        two = service.add_draft(
            session,
            SYSTEM,
            plan_key=PLAN,
            title="Second",
            sections=[
                {"key": "intro", "heading": "Introduction", "text": "We will invest more in AI."},
                {"key": "people", "heading": "People", "text": "Train 1,000 researchers."},
            ],
        )
        assert (one.version, two.version) == (1, 2)
    with plan_db.scope(write=False) as session:
        comparison = service.compare_drafts(session, SYSTEM, PLAN, 1, 2)
    assert [(s.key, s.change) for s in comparison.sections] == [
        ("intro", "changed"),
        ("people", "added"),
        ("budget", "removed"),
    ]
    assert comparison.headings["budget"] == "Budget"
    with pytest.raises(ValidationFailed), plan_db.scope() as session:
        service.add_draft(
            session,
            SYSTEM,
            plan_key=PLAN,
            title="Bad",
            sections=[{"key": "a", "heading": "A"}, {"key": "a", "heading": "A again"}],
        )


def test_status_rolls_up_the_tree(plan_db: Database) -> None:
    build_tree(plan_db)
    with plan_db.scope() as session:
        service.record_measurement(
            session, SYSTEM, plan_key=PLAN, indicator="I1", on_date=D(2024, 6, 1), value=1.2
        )
        service.file_progress(
            session, SYSTEM, plan_key=PLAN, task_code="T2", period="2024-Q2", percent_complete=40
        )
    with plan_db.scope(write=False) as session:
        status = plan_status(session, SYSTEM, PLAN, today=D(2024, 6, 15))
    goals = {g.code: (round(g.progress, 3), g.status) for g in status.goals}
    assert goals["O1"] == (0.5, "on_track")
    assert goals["O2"] == (0.4, "on_track")
    assert goals["G1"] == (round((3 * 0.5 + 0.4) / 4, 3), "on_track")
    with plan_db.scope(write=False) as session:
        late = plan_status(session, SYSTEM, PLAN, today=D(2024, 10, 1))
    assert {g.code: g.status for g in late.goals}["G1"] == "late"


def test_liaisons_report_only_on_tasks_their_body_leads_or_supports(plan_db: Database) -> None:
    build_tree(plan_db)
    agency = Actor(
        username="ag", role=Role.liaison, body_ids=frozenset({body_id(plan_db, "agency")})
    )
    with plan_db.scope() as session:
        service.file_progress(
            session,
            agency,
            plan_key=PLAN,
            task_code="T1",
            period="2024-Q1",
            percent_complete=25,
            narrative="Tender done",
        )
        service.complete_milestone(
            session, agency, plan_key=PLAN, task_code="T1", code="M2", completed_on=D(2024, 8, 30)
        )
        service.record_measurement(
            session, agency, plan_key=PLAN, indicator="I1", on_date=D(2024, 7, 1), value=1.4
        )
    with pytest.raises(PermissionDenied), plan_db.scope() as session:
        service.file_progress(
            session, agency, plan_key=PLAN, task_code="T2", period="2024-Q1", percent_complete=10
        )
    with pytest.raises(PermissionDenied), plan_db.scope() as session:
        service.add_task(session, agency, plan_key=PLAN, code="T9", title="Mine now")
    with pytest.raises(Conflict), plan_db.scope() as session:
        service.file_progress(
            session, agency, plan_key=PLAN, task_code="T1", period="2024-Q1", percent_complete=30
        )
    with pytest.raises(ValidationFailed), plan_db.scope() as session:
        service.file_progress(
            session, agency, plan_key=PLAN, task_code="T1", period="2024-Q2", percent_complete=130
        )
    with plan_db.scope(write=False) as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.actor_name == "ag")
        ).all()
    assert sorted(actions) == ["measurement.record", "milestone.complete", "progress.file"]


def test_concurrent_task_edits_conflict(plan_db: Database) -> None:
    build_tree(plan_db)
    with plan_db.scope() as session:
        task = service.update_task(
            session,
            SYSTEM,
            plan_key=PLAN,
            code="T1",
            expected_version=1,
            changes={"title": "Exascale compute"},
        )
        assert task.version == 2
    with pytest.raises(Conflict) as info, plan_db.scope() as session:
        service.update_task(
            session,
            SYSTEM,
            plan_key=PLAN,
            code="T1",
            expected_version=1,
            changes={"title": "Lost edit"},
        )
    assert info.value.current["title"] == "Exascale compute"
    with pytest.raises(ValidationFailed), plan_db.scope() as session:
        service.update_task(
            session,
            SYSTEM,
            plan_key=PLAN,
            code="T1",
            expected_version=2,
            changes={"lead_body_id": 1},
        )


def test_content_validation(plan_db: Database) -> None:
    build_tree(plan_db)
    cases = [
        lambda s: service.add_goal(s, SYSTEM, plan_key=PLAN, code="X", kind="wish", title="t"),
        lambda s: service.add_goal(
            s, SYSTEM, plan_key=PLAN, code="X", kind="goal", title="t", parent="NOPE"
        ),
        lambda s: service.add_task(
            s, SYSTEM, plan_key=PLAN, code="X", title="t", lead_body="nobody"
        ),
        lambda s: service.add_indicator(
            s,
            SYSTEM,
            plan_key=PLAN,
            code="X",
            name="n",
            unit="u",
            baseline=5,
            target=1,
            direction="increase",
        ),
    ]
    for case in cases:
        with pytest.raises(ValidationFailed), plan_db.scope() as session:
            case(session)
    with pytest.raises(Conflict), plan_db.scope() as session:
        service.add_goal(session, SYSTEM, plan_key=PLAN, code="G1", kind="goal", title="dup")


def test_alignment_flags_missing_links_and_unmandated_bodies(plan_db: Database) -> None:
    build_tree(plan_db)
    with plan_db.scope(write=False) as session:
        report = alignment(session, SYSTEM, PLAN)
    problems = [(i.task, i.body, i.problem.split(" but")[0]) for i in report.issues]
    assert ("T2", None, "no indicator") in problems
    assert ("T2", None, "no budget link") in problems
    assert (None, "agency", "named in 1 task(s) (T1)") in problems  # agency has no mandate
    assert not any(task == "T1" for task, _, _ in problems)
