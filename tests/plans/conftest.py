"""A plan on the fictional XA mechanism, opened through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database
from stcoord.institutions import service as institutions
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.plans import service
from tests.conftest import fixture_text

PLAN = "xa-ai"
OPENED = dt.date(2024, 1, 10)
QUORATE = [
    {"role": "chair", "holder_type": "head_of_government", "present": 1},
    {"role": "member", "holder_type": "budget_authority", "present": 1},
    {"role": "member", "holder_type": "minister", "present": 1},
    {"role": "member", "holder_type": "expert_academia", "present": 1},
]


@pytest.fixture
def plan_db(db: Database) -> Database:
    with db.scope() as session:
        institutions.load_mechanism(session, SYSTEM, parse_mechanism(fixture_text("mini.yaml")))
        service.open_plan(
            session,
            SYSTEM,
            code="XA",
            template_key="ai_plan",
            key=PLAN,
            title="Atlantis AI plan",
            lead_body="council",
            opened_on=OPENED,
        )
    return db
