"""Consultation services on both databases: participants write only their own input, votes
change, moderation hides with a reason, dispositions answer every comment, and the plan's gate
reads who was heard and what is unanswered."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM, PermissionDenied
from stcoord.consultation import dashboard, service
from stcoord.consultation.models import Participant, Vote
from stcoord.db.session import Database
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.plans import service as plans
from stcoord.plans.models import StageInput
from stcoord.plans.service import GateBlocked
from tests.consultation.conftest import KEY, PLAN, actor


def _register(db: Database, name: str, sector: str, org: str | None) -> None:
    with db.scope() as session:
        service.register(session, actor(db, name), key=KEY, sector=sector, organisation=org)


def _advance(db: Database) -> None:
    with db.scope() as session:
        plans.advance(session, SYSTEM, plan_key=PLAN, on_date=dt.date(2024, 2, 15))


def test_creating_validates_everything_at_once(cdb: Database) -> None:
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        service.create_consultation(
            session,
            SYSTEM,
            key="bad",
            plan_key=PLAN,
            kind="poll",
            title=" ",
            channels=["industry", "telepathy"],
            draft_version=9,
            opens_on=dt.date(2024, 3, 1),
            closes_on=dt.date(2024, 2, 1),
        )
    assert [d["path"] for d in info.value.details] == [
        "channels[1]",
        "kind",
        "title",
        "closes_on",
        "draft_version",
    ]
    with pytest.raises(Conflict), cdb.scope() as session:
        service.create_consultation(
            session, SYSTEM, key=KEY, plan_key=PLAN, kind="rfi", title="again"
        )
    with pytest.raises(PermissionDenied), cdb.scope() as session:
        service.create_consultation(
            session, actor(cdb, "ind"), key="x", plan_key=PLAN, kind="rfi", title="x"
        )
    with cdb.scope(write=False) as session:
        c = service.get_consultation(session, SYSTEM, KEY)
        assert (c.kind, c.status, c.channels) == (
            "public_comment",
            "open",
            ["rfi", "industry", "academia"],
        )
        rows = service.list_consultations(session, SYSTEM, plan_key=PLAN)
        assert [(r.consultation.key, r.stage_key, r.participants) for r in rows] == [
            (KEY, "consult", 0)
        ]


def test_stakeholders_write_only_their_own_input(cdb: Database) -> None:
    _register(cdb, "ind", "industry", "Atlantis Robotics")
    _register(cdb, "aca", "academia", "Atlantis University")
    ind, aca = actor(cdb, "ind"), actor(cdb, "aca")
    with cdb.scope() as session:
        comment = service.add_comment(
            session, ind, key=KEY, text="Fund shared compute.", section_key="s1"
        )
        comment_id = comment.id
    # a stakeholder cannot speak for another participant
    with pytest.raises(PermissionDenied), cdb.scope() as session:
        service.add_comment(session, aca, key=KEY, text="x", participant="user:ind")
    # the office can (a letter received by post)
    with cdb.scope() as session:
        service.register(
            session,
            SYSTEM,
            key=KEY,
            sector="civil_society",
            organisation="Data Rights Atlantis",
            handle="letter:1",
            display_name="Data Rights Atlantis",
        )
        service.add_comment(
            session, SYSTEM, key=KEY, text="Protect privacy.", participant="letter:1"
        )
    # unknown section, empty text: one error naming both
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        service.add_comment(session, aca, key=KEY, text=" ", section_key="s9")
    assert [d["path"] for d in info.value.details] == ["text", "section"]
    # not registered: told to register first
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        service.add_comment(session, actor(cdb, "pub"), key=KEY, text="hello")
    assert info.value.details[0]["path"] == "participant"
    with cdb.scope(write=False) as session:
        rows = service.list_comments(session, SYSTEM, key=KEY)
        assert [(r.participant.sector, r.comment.section_key, r.section_heading) for r in rows] == [
            ("industry", "s1", "Compute"),
            ("civil_society", None, None),
        ]
        assert rows[0].comment.id == comment_id
        audit = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == "comment.create")
        )
        assert audit == 2


def test_votes_are_unique_per_participant_and_can_change(cdb: Database) -> None:
    _register(cdb, "ind", "industry", "Atlantis Robotics")
    _register(cdb, "aca", "academia", None)
    ind, aca = actor(cdb, "ind"), actor(cdb, "aca")
    with cdb.scope() as session:
        assert service.add_statement(session, ind, key=KEY, text="Compute first.").number == 1
        assert service.add_statement(session, aca, key=KEY, text="Data first.").number == 2
    with pytest.raises(Conflict), cdb.scope() as session:
        service.add_statement(session, aca, key=KEY, text="Compute first.")
    with cdb.scope() as session:
        service.cast_vote(session, ind, key=KEY, statement=1, value=1)
        service.cast_vote(session, aca, key=KEY, statement=1, value=-1)
        service.cast_vote(session, aca, key=KEY, statement=1, value=0)  # changes the vote
        service.cast_vote(session, aca, key=KEY, statement=2, value=1)
    with pytest.raises(ValidationFailed), cdb.scope() as session:
        service.cast_vote(session, aca, key=KEY, statement=2, value=2)
    with pytest.raises(NotFound), cdb.scope() as session:
        service.cast_vote(session, aca, key=KEY, statement=99, value=1)
    with cdb.scope(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 3
        rows = service.list_statements(session, SYSTEM, key=KEY)
        assert [(r.statement.number, r.agree, r.disagree, r.passed) for r in rows] == [
            (1, 1, 0, 1),
            (2, 1, 0, 0),
        ]
        # one statement's card (redrawn after a vote) counts only that statement's votes
        me = service.my_participant(session, aca, service.get_consultation(session, aca, KEY))
        (one,) = service.list_statements(session, aca, key=KEY, for_participant=me, number=2)
        assert (one.statement.number, one.agree, one.disagree, one.passed, one.my_vote) == (
            2,
            1,
            0,
            0,
            1,
        )
        assert service.list_statements(session, aca, key=KEY, number=99) == []
        actions = session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.action.like("vote.%"))
            .order_by(AuditRecord.id)
        ).all()
        assert actions == ["vote.cast", "vote.cast", "vote.change", "vote.cast"]


def test_moderation_hides_with_a_reason_and_the_analysis_leaves_it_out(cdb: Database) -> None:
    _register(cdb, "ind", "industry", "Atlantis Robotics")
    with cdb.scope() as session:
        for text in ("A", "B", "C"):
            service.add_statement(session, actor(cdb, "ind"), key=KEY, text=text)
    with pytest.raises(ValidationFailed), cdb.scope() as session:
        service.moderate(session, SYSTEM, key=KEY, target="statement", ident=2, hidden=True)
    with pytest.raises(PermissionDenied), cdb.scope() as session:
        service.moderate(
            session,
            actor(cdb, "ind"),
            key=KEY,
            target="statement",
            ident=2,
            hidden=True,
            reason="spam",
        )
    with cdb.scope() as session:
        service.moderate(
            session,
            actor(cdb, "office"),
            key=KEY,
            target="statement",
            ident=2,
            hidden=True,
            reason="abusive",
        )
    with pytest.raises(ValidationFailed), cdb.scope() as session:
        service.cast_vote(session, actor(cdb, "ind"), key=KEY, statement=2, value=1)
    with cdb.scope(write=False) as session:
        public = service.list_statements(session, actor(cdb, "ind"), key=KEY, include_hidden=True)
        assert [r.statement.number for r in public] == [1, 3]
        office = service.list_statements(session, SYSTEM, key=KEY, include_hidden=True)
        assert [(r.statement.number, r.statement.hidden_reason) for r in office] == [
            (1, None),
            (2, "abusive"),
            (3, None),
        ]
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "statement.hide")
        ).one()
        assert (record.actor_name, record.after) == (
            "office",
            {"hidden": True, "reason": "abusive"},
        )


def test_the_gate_reads_who_was_heard_and_unanswered_comments(cdb: Database) -> None:
    with pytest.raises(GateBlocked) as info:
        _advance(cdb)
    assert [d["message"] for d in info.value.details] == ["no input yet from industry, academia"]
    _register(cdb, "ind", "industry", "Atlantis Robotics")
    _register(cdb, "aca", "academia", "Atlantis University")
    with cdb.scope() as session:
        first = service.add_comment(session, actor(cdb, "ind"), key=KEY, text="More compute.").id
        service.add_comment(session, actor(cdb, "ind"), key=KEY, text="And chips.")
        second = session.scalars(select(Participant.id)).first()
        assert second is not None
    with pytest.raises(GateBlocked) as info:
        _advance(cdb)
    assert [d["message"] for d in info.value.details] == [
        "no input yet from academia",
        "2 comment(s) have no official disposition yet",
    ]
    with cdb.scope() as session:
        service.add_statement(session, actor(cdb, "aca"), key=KEY, text="Open data.")
    with cdb.scope(write=False) as session:
        inputs = session.execute(
            select(StageInput.channel, StageInput.organisation)
            .where(StageInput.stage_id == service.get_consultation(session, SYSTEM, KEY).stage_id)
            .order_by(StageInput.id)
        ).all()
        # rfi (open to everyone) and industry on the first input, academia on the statement
        assert inputs == [
            ("rfi", "Atlantis Robotics"),
            ("industry", "Atlantis Robotics"),
            ("academia", "Atlantis University"),
        ]
        d = dashboard.dashboard(session, SYSTEM, KEY)
        assert [u.message for u in d.gate] == ["2 comment(s) have no official disposition yet"]
        assert [(h.sector, h.participants, h.comments, h.statements) for h in d.heard][:3] == [
            ("ministry", 0, 0, 0),
            ("industry", 1, 2, 0),
            ("academia", 1, 0, 1),
        ]
        assert [(ch.channel, ch.required, ch.heard) for ch in d.channels] == [
            ("industry", True, True),
            ("academia", True, True),
            ("rfi", False, True),
        ]
    office = actor(cdb, "office")
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        service.answer_comment(session, office, key=KEY, comment_id=first, outcome="yes", reason="")
    assert [d["path"] for d in info.value.details] == ["outcome", "reason"]
    with pytest.raises(PermissionDenied), cdb.scope() as session:
        service.answer_comment(
            session, actor(cdb, "ind"), key=KEY, comment_id=first, outcome="adopted", reason="x"
        )
    with cdb.scope() as session:
        service.answer_comment(
            session,
            office,
            key=KEY,
            comment_id=first,
            outcome="adopted",
            reason="Section 1 now funds it.",
        )
    with pytest.raises(GateBlocked) as info:
        _advance(cdb)
    assert [d["message"] for d in info.value.details] == [
        "1 comment(s) have no official disposition yet"
    ]
    with cdb.scope() as session:
        for row in service.list_comments(session, office, key=KEY, answered=False):
            service.answer_comment(
                session,
                office,
                key=KEY,
                comment_id=row.comment.id,
                outcome="out_of_scope",
                reason="Industrial policy is outside this plan.",
            )
    # revising with a stale version is a conflict
    with pytest.raises(Conflict), cdb.scope() as session:
        service.answer_comment(
            session,
            office,
            key=KEY,
            comment_id=first,
            outcome="partly_adopted",
            reason="r",
            expected_version=7,
        )
    _advance(cdb)
    with cdb.scope(write=False) as session:
        plan = plans.get_plan(session, SYSTEM, PLAN)
        assert [(s.key, s.status) for s in plan.stages][:2] == [
            ("consult", "closed"),
            ("draft", "open"),
        ]


def test_closed_consultations_take_no_input(cdb: Database) -> None:
    _register(cdb, "ind", "industry", None)
    with cdb.scope() as session:
        service.set_status(session, actor(cdb, "office"), key=KEY, status="closed")
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        service.add_statement(session, actor(cdb, "ind"), key=KEY, text="late")
    assert "closed" in info.value.details[0]["message"]
    with pytest.raises(Conflict), cdb.scope() as session:
        service.set_status(session, SYSTEM, key=KEY, status="open", expected_version=1)
