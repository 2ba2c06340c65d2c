"""Accounts: creation, password checks, API tokens, and building the :class:`Actor` of a request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from stcoord.audit.service import record_change
from stcoord.auth.models import ApiToken, User, UserBodyScope
from stcoord.auth.permissions import ANONYMOUS, Actor, PermissionDenied, Role, require
from stcoord.db.base import utcnow
from stcoord.errors import Conflict, NotFound, ValidationFailed

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_for(user: User, request_id: str | None = None) -> Actor:
    return Actor(
        username=user.username,
        role=Role(user.role),
        user_id=user.id,
        body_ids=frozenset(scope.body_id for scope in user.scopes),
        request_id=request_id,
    )


def user_snapshot(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "body_ids": sorted(scope.body_id for scope in user.scopes),
    }


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    body_ids: list[int] | None = None,
) -> User:
    """Create an account; liaisons must name the bodies they represent."""
    require(actor, "user.manage")
    problems = []
    if not username.strip():
        problems.append(("username", "must not be empty"))
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(("password", f"must have at least {MIN_PASSWORD_LENGTH} characters"))
    if role is Role.anonymous:
        problems.append(("role", "anonymous is not an account role"))
    if role is Role.liaison and not body_ids:
        problems.append(("body_ids", "a liaison must represent at least one body"))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role.value,
        scopes=[UserBodyScope(body_id=b) for b in sorted(set(body_ids or []))],
    )
    session.add(user)
    session.flush()
    record_change(
        session,
        actor,
        action="user.create",
        object_type="user",
        object_key=username,
        before=None,
        after=user_snapshot(user),
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for unknown user and bad
    password, so the login page leaks nothing)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        verify_password(hash_password("timing-equaliser"), password)
        return None
    return user if verify_password(user.password_hash, password) else None


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session, actor: Actor) -> list[User]:
    require(actor, "user.read")
    return list(session.scalars(select(User).order_by(User.username)).all())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str


def create_token(session: Session, actor: Actor, *, name: str) -> IssuedToken:
    """Issue a bearer token for the acting user; the secret is shown once and only hashed."""
    require(actor, "token.manage")
    if actor.user_id is None:
        raise ValidationFailed([("actor", "only a signed-in user can hold a token")])
    if not name.strip():
        raise ValidationFailed([("name", "must not be empty")])
    secret = "stc_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.user_id, name=name, token_digest=_digest(secret))
    session.add(token)
    session.flush()
    record_change(
        session,
        actor,
        action="token.create",
        object_type="api_token",
        object_key=str(token.id),
        before=None,
        after={"name": name, "user": actor.username},
    )
    return IssuedToken(id=token.id, name=name, token=secret)


def revoke_token(session: Session, actor: Actor, *, token_id: int) -> None:
    require(actor, "token.manage")
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound(f"token {token_id} not found")
    token.revoked = True
    record_change(
        session,
        actor,
        action="token.revoke",
        object_type="api_token",
        object_key=str(token_id),
        before={"revoked": False},
        after={"revoked": True},
    )


def user_for_token(session: Session, secret: str) -> User | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_digest == _digest(secret)))
    if token is None or token.revoked or not token.user.is_active:
        return None
    return token.user


def touch_token(session: Session, secret: str) -> None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_digest == _digest(secret)))
    if token is not None:
        token.last_used_at = utcnow()


@dataclass(frozen=True)
class Credential:
    """Who sent a vote, as the request showed it: a bearer token, else a session's user id."""

    token: str | None
    user_id: int | None
    request_id: str


def authenticate_many(
    session: Session, credentials: list[Credential]
) -> list[Actor | PermissionDenied]:
    """The actor of each credential, as ``web/dependencies.current_actor`` finds it, set-based
    (for a batch of requests handled in one transaction, e.g. votes).

    A bearer token must exist, not be revoked and belong to an active user (else the vote is
    refused as unauthenticated); its ``last_used_at`` is updated. A session's user that no
    longer exists or is inactive votes as anonymous (and is refused by the permission check).
    """
    digests = {_digest(c.token) for c in credentials if c.token}
    tokens = {
        row.token_digest: row
        for row in session.execute(
            select(ApiToken.id, ApiToken.token_digest, ApiToken.revoked, ApiToken.user_id).where(
                ApiToken.token_digest.in_(digests)
            )
        )
    }
    user_ids = {t.user_id for t in tokens.values()} | {
        c.user_id for c in credentials if not c.token and c.user_id is not None
    }
    users = {
        u.id: u
        for u in session.execute(
            select(User.id, User.username, User.role, User.is_active).where(User.id.in_(user_ids))
        )
    }
    scopes: dict[int, set[int]] = {}
    for uid, body_id in session.execute(
        select(UserBodyScope.user_id, UserBodyScope.body_id).where(
            UserBodyScope.user_id.in_(user_ids)
        )
    ):
        scopes.setdefault(uid, set()).add(body_id)

    def actor(uid: int, rid: str) -> Actor:  # as auth.service.actor_for
        u = users[uid]
        return Actor(
            username=u.username,
            role=Role(u.role),
            user_id=u.id,
            body_ids=frozenset(scopes.get(uid, ())),
            request_id=rid,
        )

    actors: list[Actor | PermissionDenied] = []
    used: set[int] = set()
    for c in credentials:
        if c.token:
            t = tokens.get(_digest(c.token))
            user = users.get(t.user_id) if t is not None else None
            if t is None or t.revoked or user is None or not user.is_active:
                actors.append(
                    PermissionDenied(ANONYMOUS, "authenticate", "invalid or revoked API token")
                )
                continue
            used.add(t.id)
            actors.append(actor(t.user_id, c.request_id))
        elif c.user_id is not None and c.user_id in users and users[c.user_id].is_active:
            actors.append(actor(c.user_id, c.request_id))
        else:
            actors.append(
                Actor(username=ANONYMOUS.username, role=ANONYMOUS.role, request_id=c.request_id)
            )
    if used:
        session.execute(update(ApiToken).where(ApiToken.id.in_(used)).values(last_used_at=utcnow()))
    return actors
