"""Database scope and acting user for CLI commands.

Whoever can run the CLI can read the database file, so the CLI acts as the local operator
(``cli``, with the admin role) unless ``STCOORD_CLI_USER`` names an account to act as; either
way every change is audited under that name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.auth.models import User
from stcoord.auth.permissions import Actor, Role
from stcoord.auth.service import actor_for
from stcoord.cli.output import fail
from stcoord.db.session import session_scope


@contextmanager
def cli_scope(*, write: bool) -> Iterator[Session]:
    with session_scope(write=write) as session:
        yield session


def cli_actor(session: Session) -> Actor:
    request_id = f"cli-{uuid.uuid4().hex[:12]}"
    username = os.environ.get("STCOORD_CLI_USER")
    if not username:
        return Actor(username="cli", role=Role.admin, request_id=request_id)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        fail(f"STCOORD_CLI_USER names no active user: {username!r}")
    return actor_for(user, request_id)
