"""A consultation on the fictional XA plan: a stage that must hear industry and academia and
answer every comment, a draft with two sections, and a few registered participants."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import stcoord.flows  # noqa: F401  (registers the consultation facts with the plan engine)
from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, Actor, Role
from stcoord.auth.service import actor_for
from stcoord.consultation import service
from stcoord.db.session import Database
from stcoord.institutions import service as institutions
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.plans import service as plans
from tests.conftest import fixture_text
from tests.helpers import make_user

PLAN = "xa-ai"
KEY = "xa-rfi"
OPENED = dt.date(2024, 1, 10)
# The XA fixture's first stage, made to also require an answer to every comment.
MINI = fixture_text("mini.yaml").replace(
    "gate: [{kind: channels_heard, channels: [industry, academia]}]}",
    "gate: [{kind: channels_heard, channels: [industry, academia]}, {kind: comments_answered}]}",
)
assert "comments_answered" in MINI


def actor(db: Database, username: str) -> Actor:
    with db.scope(write=False) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return actor_for(user)


@pytest.fixture
def cdb(db: Database) -> Database:
    """The XA plan with a draft and an open consultation ``xa-rfi`` on its first stage;
    users: office (coordinator), ind (industry), aca (academia), pub (individual)."""
    with db.scope() as session:
        institutions.load_mechanism(session, SYSTEM, parse_mechanism(MINI))
        plans.open_plan(
            session,
            SYSTEM,
            code="XA",
            template_key="ai_plan",
            key=PLAN,
            title="Atlantis AI plan",
            lead_body="council",
            opened_on=OPENED,
        )
        plans.add_draft(
            session,
            SYSTEM,
            plan_key=PLAN,
            title="Draft AI plan",
            sections=[
                {"key": "s1", "heading": "Compute", "text": "Build national compute."},
                {"key": "s2", "heading": "Data", "text": "Open public datasets."},
            ],
        )
        service.create_consultation(
            session,
            SYSTEM,
            key=KEY,
            plan_key=PLAN,
            kind="public_comment",
            title="Comments on the draft AI plan",
            channels=["rfi", "industry", "academia"],
            draft_version=1,
            opens_on=dt.date(2024, 1, 11),
            closes_on=dt.date(2024, 2, 10),
        )
    make_user(db, "office", Role.coordinator)
    for name, role in (("ind", Role.stakeholder), ("aca", Role.stakeholder), ("pub", Role.viewer)):
        make_user(db, name, role)
    return db


STATEMENTS = [
    "計算資源を増やす",  # 1: "more compute" (Japanese, for the CJK glyphs of the PDFs)
    "Fund chips",
    "Train engineers",
    "Tax breaks for labs",
    "Open all public data",
    "Ban facial recognition",
    "Audit algorithms",
    "Protect privacy first",
    "Publish the plan's evidence",  # 9: everyone agrees
    "Spam statement",  # 10: hidden by the moderator
]


def conversation(db: Database) -> None:
    """Twenty participants in two camps through the services: ten from industry agree with
    statements 1-4 and disagree with 5-8, ten from academia the opposite; everyone agrees with
    9; statement 10 is moderated out (everyone agreed with it, so it would change nothing)."""
    with db.scope() as session:
        for i in range(20):
            sector = "industry" if i < 10 else "academia"
            service.register(
                session,
                SYSTEM,
                key=KEY,
                sector=sector,
                organisation=f"{sector.title()} org {i % 3}",
                handle=f"p{i}",
                display_name=f"Person {i}",
            )
        for text in STATEMENTS:
            service.add_statement(session, SYSTEM, key=KEY, text=text, participant="p0")
        for i in range(20):
            camp = 1 if i < 10 else -1
            for n in range(1, 11):
                value = 1 if n >= 9 else (camp if n <= 4 else -camp)
                service.cast_vote(
                    session, SYSTEM, key=KEY, statement=n, value=value, participant=f"p{i}"
                )
        service.moderate(
            session, SYSTEM, key=KEY, target="statement", ident=10, hidden=True, reason="spam"
        )
