"""A cache of rendered read responses, invalidated by any audited change.

Every change to the database writes an audit record in the same transaction (DESIGN.md rule 3),
so the highest audit record id is a change stamp for the whole database: a response rendered at
stamp *s* is still right while the stamp is *s*, whichever process made the change. Checking it
is one primary-key lookup, where rendering the mechanism page costs ~18 ms of CPU
(benchmarks/bench_serving.py, docs/performance.md).

Only responses that depend on nothing but the database, the URL, the language and the actor
are cached (the mechanism registry's pages and API reads); the key holds all of them, plus the
session's CSRF token (pages with a form print it) and the HTMX target (fragments). A page
showing a one-off flash message is never cached. Clients also get an ``ETag`` and a 304 answer
when they send it back.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import Actor
from stcoord.web.dependencies import CSRF_SESSION_KEY

CACHE_SIZE = 512  # entries; the largest page (the mechanism page) is ~60 KB


@dataclass(frozen=True)
class _Entry:
    stamp: int
    etag: str
    status_code: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # raw, as the route set them (content type included)


class ReadCache:
    """A small thread-safe LRU of rendered responses keyed by request, each with its stamp."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], stamp: int) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple[Any, ...], entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def change_stamp(session: Session) -> int:
    """The id of the newest audit record: it changes with every committed change."""
    return int(session.scalar(select(func.max(AuditRecord.id))) or 0)


# Headers that belong to one response only and must not be replayed from the cache.
_PER_RESPONSE = frozenset({b"etag", b"date", b"server"})


def cached_read(
    request: Request,
    session: Session,
    actor: Actor,
    build: Callable[[], Response],
    *,
    lang: str = "",
) -> Response:
    """``build()``'s response, or the copy rendered at the current change stamp.

    ``build`` must depend only on the database, the URL, ``lang`` and ``actor``.
    """
    cache: ReadCache | None = getattr(request.app.state, "read_cache", None)
    if cache is None or request.method != "GET" or request.session.get("flash"):
        return build()
    stamp = change_stamp(session)
    entry = cache.get(_key(request, actor, lang), stamp)
    if entry is None:
        response = build()
        if response.status_code != 200 or not isinstance(response.body, bytes):
            return response
        # Rendering may have made the session's CSRF token: file the page under it.
        entry = _entry(stamp, response)
        cache.put(_key(request, actor, lang), entry)
        response.headers["etag"] = entry.etag
        return response
    if entry.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers={"etag": entry.etag})
    response = Response(entry.body, status_code=entry.status_code)
    response.raw_headers = [*entry.headers, (b"etag", entry.etag.encode())]
    return response


def _key(request: Request, actor: Actor, lang: str) -> tuple[Any, ...]:
    return (
        request.url.path,
        request.url.query,
        lang,
        actor.username,
        actor.role,
        actor.body_ids,
        request.headers.get("hx-request"),
        request.headers.get("hx-target"),
        request.session.get(CSRF_SESSION_KEY),
    )


def _entry(stamp: int, response: Response) -> _Entry:
    body = bytes(response.body)
    digest = hashlib.blake2b(body, digest_size=8).hexdigest()
    return _Entry(
        stamp=stamp,
        etag=f'W/"{stamp}-{digest}"',
        status_code=response.status_code,
        body=body,
        # Cookies the route set (the language choice) belong to the page; the session cookie
        # is added later by the middleware, per response.
        headers=tuple((k, v) for k, v in response.raw_headers if k.lower() not in _PER_RESPONSE),
    )


def _etags(header: str) -> set[str]:
    return {tag.strip() for tag in header.split(",") if tag.strip()}


def json_response(model: Any) -> Response:
    """A pydantic model as a JSON response (what FastAPI would send for ``response_model``)."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")
