"""Accounts and tokens on both databases."""

import pytest
from sqlalchemy import select

from stcoord.audit.models import AuditRecord
from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.auth.service import (
    actor_for,
    authenticate,
    create_token,
    create_user,
    revoke_token,
    user_for_token,
)
from stcoord.db.session import Database
from stcoord.errors import Conflict, NotFound, ValidationFailed
from tests.helpers import PASSWORD, make_user


def test_passwords_are_hashed_with_argon2_and_checked(db: Database) -> None:
    make_user(db, "ana", Role.coordinator)
    with db.scope(write=False) as session:
        user = session.scalars(select(User).where(User.username == "ana")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert authenticate(session, "ana", PASSWORD) is not None
        assert authenticate(session, "ana", "wrong-password") is None
        assert authenticate(session, "nobody", PASSWORD) is None


def test_create_user_validates_everything_at_once(db: Database) -> None:
    with pytest.raises(ValidationFailed) as info, db.scope() as session:
        create_user(session, SYSTEM, username=" ", password="short", role=Role.liaison)
    assert [d["path"] for d in info.value.details] == ["username", "password", "body_ids"]
    make_user(db, "ana", Role.viewer)
    with pytest.raises(Conflict), db.scope() as session:
        create_user(session, SYSTEM, username="ana", password=PASSWORD, role=Role.viewer)


def test_only_admins_create_users_and_creation_is_audited(db: Database) -> None:
    coordinator = Actor(username="c", role=Role.coordinator)
    with pytest.raises(PermissionDenied), db.scope() as session:
        create_user(session, coordinator, username="x", password=PASSWORD, role=Role.viewer)
    make_user(db, "ben", Role.advisor)
    with db.scope(write=False) as session:
        record = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "user.create")
        ).one()
    assert record.object_key == "ben"
    assert record.after["role"] == "advisor" and "password" not in str(record.after)


def test_tokens_resolve_to_their_user_until_revoked(db: Database) -> None:
    make_user(db, "ana", Role.coordinator)
    with db.scope() as session:
        user = session.scalars(select(User).where(User.username == "ana")).one()
        issued = create_token(session, actor_for(user), name="script")
    with db.scope(write=False) as session:
        found = user_for_token(session, issued.token)
        assert found is not None and found.username == "ana"
        assert user_for_token(session, issued.token + "x") is None
    other = make_user(db, "ben", Role.viewer)
    with pytest.raises(NotFound), db.scope() as session:
        ben = Actor(username="ben", role=Role.viewer, user_id=other)
        revoke_token(session, ben, token_id=issued.id)  # not ben's token
    with db.scope() as session:
        user = session.scalars(select(User).where(User.username == "ana")).one()
        revoke_token(session, actor_for(user), token_id=issued.id)
    with db.scope(write=False) as session:
        assert user_for_token(session, issued.token) is None


def test_anonymous_cannot_hold_tokens(db: Database) -> None:
    from stcoord.auth.permissions import ANONYMOUS

    with pytest.raises(PermissionDenied), db.scope() as session:
        create_token(session, ANONYMOUS, name="x")
