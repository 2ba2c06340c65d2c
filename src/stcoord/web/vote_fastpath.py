"""The API vote's fast path: a well-formed token vote goes straight to the vote batcher.

A vote is the one request a conversation sends by the hundred at the same instant. Through the
full FastAPI stack (middleware, route matching among ~400 routes, dependency resolution,
Pydantic validation, response serialisation) it cost ~0.45 ms of event-loop time before its
turn in the batch; 100 at once spent ~45 ms there alone, on top of the batch's transaction
(measured in ``benchmarks/bench_votes.py``, see docs/consultation.md). This ASGI middleware
recognises ``PUT /api/v1/consultations/{key}/statements/{n}/vote`` with a bearer token and a
body of exactly ``{"value": -1|0|1}`` (optionally ``"participant": "<handle>"``) and hands it to
the same :class:`~stcoord.web.vote_batcher.VoteBatcher` the route uses, so the credential,
permission, consultation rules, audit record and commit are exactly those of the route.

Anything else (no bearer token, a session cookie vote, a malformed body, another path) is
passed on untouched, with the body replayed, to the full app, whose route and error handlers
answer it; so an invalid vote gets the same 422 as before. Errors of a recorded vote are
answered with the app's own error bodies (:func:`stcoord.web.errors.error_response_body`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stcoord.auth.service import Credential
from stcoord.web.dependencies import bearer_from
from stcoord.web.errors import error_response_body
from stcoord.web.vote_batcher import VoteIn, batcher_for

VOTE_PATH = re.compile(r"/api/v1/consultations/([^/]+)/statements/([0-9]{1,9})/vote")
MAX_BODY = 1024  # a vote body is ~15 bytes; anything longer takes the full path
VOTE_VALUES = (-1, 0, 1)


def parse_vote(key: str, number: str, body: bytes) -> VoteIn | None:
    """The vote, when the body is exactly what the route's schema accepts; else None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or "value" not in data
        or not set(data) <= {"value", "participant"}
    ):
        return None
    value, participant = data["value"], data.get("participant")
    # bool is an int in Python; leave True/False to the schema's own rules
    if type(value) is not int or value not in VOTE_VALUES:
        return None
    if participant is not None and not isinstance(participant, str):
        return None
    return VoteIn(key, int(number), value, participant)


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The request body (up to MAX_BODY + 1 bytes) and the messages read, for replaying."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return body, messages
        body += message.get("body", b"")
        if not message.get("more_body", False) or len(body) > MAX_BODY:
            return body, messages


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that first gives back the messages already read."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class VoteFastPath:
    """ASGI middleware; installed inside the session middleware by ``web/app.py``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = (
            VOTE_PATH.fullmatch(scope["path"])
            if scope["type"] == "http" and scope["method"] == "PUT"
            else None
        )
        headers = dict(scope["headers"]) if match else {}
        token = bearer_from(headers.get(b"authorization", b"").decode("latin-1")) if match else None
        if match is None or token is None:
            await self.app(scope, receive, send)
            return
        body, messages = await read_body(receive)
        vote = parse_vote(match.group(1), match.group(2), body) if len(body) <= MAX_BODY else None
        if vote is None:
            await self.app(scope, replaying(messages, receive), send)
            return
        rid = headers.get(b"x-request-id", b"").decode("latin-1") or uuid.uuid4().hex
        outcome = await batcher_for(scope["app"]).submit(Credential(token, None, rid), vote)
        result = outcome.result
        if isinstance(result, Exception):
            status, payload = error_response_body(result, rid)
        else:
            status, payload = 200, {"statement": result.statement, "value": result.value}
        await respond(send, status, payload)


async def respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    """JSON as FastAPI's JSONResponse renders it (compact, UTF-8)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
