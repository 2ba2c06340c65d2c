"""Request-scoped dependencies: the database session, the acting user, CSRF, language."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from stcoord.auth.permissions import ANONYMOUS, Actor, PermissionDenied
from stcoord.auth.service import actor_for, get_user, touch_token, user_for_token
from stcoord.web.i18n import negotiate

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request; writes take SQLite's write lock, reads do not.

    Web writers queue on an async lock *before* taking a worker thread: waiting on the
    process's thread lock inside worker threads let 40+ concurrent writes occupy every thread
    while the one holding the lock needed a thread to finish (a deadlock seen with 48
    concurrent PATCHes in benchmarks/bench_serving.py).
    """
    write = request.method not in SAFE_METHODS
    database = request.app.state.database
    queue = request.app.state.write_queue if (write and database.sqlite) else None
    if queue is not None:
        await queue.acquire()
    # A read scope only makes and closes a Session (no I/O until a query, which the route runs
    # in its own thread): doing that on the event loop saves two thread hops per page.
    hop = run_in_threadpool if write else _inline
    try:
        scope = database.scope(write=write)
        session = await hop(scope.__enter__)
        try:
            yield session
        except BaseException as exc:
            await hop(scope.__exit__, type(exc), exc, exc.__traceback__)
            raise
        await hop(scope.__exit__, None, None, None)
    finally:
        if queue is not None:
            queue.release()


async def _inline(fn: Callable[..., T], *args: Any) -> T:
    return fn(*args)


# scope="function": the commit runs before the response is sent, so a failed commit is the
# client's error response and a client that reads right after a write sees it.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = rid
    return str(rid)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(24)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


class CsrfFailed(Exception):
    pass


async def check_csrf(request: Request) -> None:
    """Unsafe requests authenticated by cookie must echo the session's token."""
    if request.method in SAFE_METHODS or bearer_token(request):
        return
    api = request.url.path.startswith("/api/")
    if api and request.session.get("user_id") is None:
        return  # an anonymous API call carries no ambient authority; it gets 401 later
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise CsrfFailed()


def bearer_token(request: Request) -> str | None:
    return bearer_from(request.headers.get("authorization", ""))


def bearer_from(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, else None."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_actor(request: Request, session: DbSession) -> Actor:
    """The user behind the request: a bearer token, else the login session, else anonymous.

    Async on purpose: each sync dependency costs a thread-pool hop per request (measured in
    benchmarks/bench_serving.py); the anonymous path touches no database, and the signed-in
    path is one indexed lookup.
    """
    rid = request_id(request)
    token = bearer_token(request)
    if token:
        user = user_for_token(session, token)
        if user is None:
            raise PermissionDenied(ANONYMOUS, "authenticate", "invalid or revoked API token")
        if request.method not in SAFE_METHODS:
            touch_token(session, token)
        return actor_for(user, rid)
    user_id = request.session.get("user_id")
    if user_id is not None:
        user = get_user(session, int(user_id))
        if user is not None and user.is_active:
            return actor_for(user, rid)
        request.session.pop("user_id", None)
    return Actor(username=ANONYMOUS.username, role=ANONYMOUS.role, request_id=rid)


CurrentActor = Annotated[Actor, Depends(current_actor)]


def request_language(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
    )


async def language(request: Request) -> str:
    return request_language(request)


Language = Annotated[str, Depends(language)]
