"""``stcoord seed``: load the reference mechanisms and demo data; running it twice is a no-op."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, Actor, Role
from stcoord.auth.service import create_user
from stcoord.budget.classifications import seed_classifications
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.institutions.service import LoadResult, load_mechanism
from stcoord.plans.plan_file import load_plan, parse_plan
from stcoord.reference import mechanism_files, plan_files

DEMO_PASSWORD = "demo-password"
# (username, role, liaison bodies as (jurisdiction, body key))
DEMO_USERS: list[tuple[str, Role, list[tuple[str, str]]]] = [
    ("coordinator", Role.coordinator, []),
    ("mext-liaison", Role.liaison, [("JP", "mext")]),
    ("advisor", Role.advisor, []),
    ("stakeholder", Role.stakeholder, []),
    ("viewer", Role.viewer, []),
]


@dataclass(frozen=True)
class SeedResult:
    mechanisms: list[LoadResult]
    users_created: list[str]
    plans_created: list[str]
    classifications_created: list[str]


def seed_reference(session: Session, actor: Actor = SYSTEM) -> list[LoadResult]:
    """Load every shipped mechanism file (all or nothing, in the caller's transaction)."""
    results = []
    for path in mechanism_files():
        spec = parse_mechanism(path.read_text(encoding="utf-8"), str(path.name))
        results.append(load_mechanism(session, actor, spec))
    return results


def seed_demo_users(session: Session, actor: Actor = SYSTEM) -> list[str]:
    """Demo accounts for trying the roles locally; skipped where they exist."""
    created = []
    for username, role, bodies in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        body_ids = [
            body_id
            for code, key in bodies
            for body_id in session.scalars(
                select(Body.id).join(Jurisdiction).where(Jurisdiction.code == code, Body.key == key)
            )
        ]
        if role is Role.liaison and not body_ids:
            continue
        create_user(
            session, actor, username=username, password=DEMO_PASSWORD, role=role, body_ids=body_ids
        )
        created.append(username)
    return created


def seed_plans(session: Session, actor: Actor = SYSTEM) -> list[str]:
    """Replay the reference plans through the procedure engine; existing plans are left alone."""
    created = []
    for path in plan_files():
        spec = parse_plan(path.read_text(encoding="utf-8"), path.name)
        if load_plan(session, actor, spec, path.name):
            created.append(spec.key)
    return created


def seed(session: Session, *, demo_users: bool = False) -> SeedResult:
    mechanisms = seed_reference(session)
    users = seed_demo_users(session) if demo_users else []
    plans = seed_plans(session)
    schemes = [r.key for r in seed_classifications(session, SYSTEM) if r.created]
    return SeedResult(mechanisms, users, plans, schemes)
