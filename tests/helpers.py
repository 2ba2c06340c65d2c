"""Shared test helpers: accounts, logins, tokens."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from stcoord.auth.permissions import SYSTEM, Actor, Role
from stcoord.auth.service import actor_for, create_token, create_user
from stcoord.db.session import Database
from stcoord.institutions.models import Body, Jurisdiction

PASSWORD = "correct-horse-battery"


def make_user(
    db: Database, username: str, role: Role, bodies: list[tuple[str, str]] | None = None
) -> int:
    with db.scope() as session:
        body_ids = [
            session.scalars(
                select(Body.id).join(Jurisdiction).where(Jurisdiction.code == code, Body.key == key)
            ).one()
            for code, key in bodies or []
        ]
        user = create_user(
            session, SYSTEM, username=username, password=PASSWORD, role=role, body_ids=body_ids
        )
        return user.id


def token_for(
    db: Database, username: str, role: Role, bodies: list[tuple[str, str]] | None = None
) -> str:
    make_user(db, username, role, bodies)
    with db.scope() as session:
        from stcoord.auth.models import User

        user = session.scalars(select(User).where(User.username == username)).one()
        actor: Actor = actor_for(user)
        return create_token(session, actor, name="tests").token


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; return the session's CSRF token."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/login").text)


class QueryCounter:
    """Counts the SQL statements an engine runs inside a ``with`` block."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0

    def _count(self, *_args: Any) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
