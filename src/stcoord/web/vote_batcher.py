"""Group commit of votes: every vote waiting at that moment is recorded in ONE write transaction.

SQLite has one writer and each commit costs an fsync, so 100 participants voting at the same
instant used to wait for 100 transactions, one after the other (p99 ~4 s). Here a vote route
puts its vote on the app's :class:`VoteBatcher` and awaits a future; a drain task takes
everything queued (up to ``max_batch``) and, in a worker thread, in one transaction:

1. authenticates every vote's credential set-based (bearer tokens or session users: one query
   each for the tokens or users and their body scopes; a revoked token or inactive user is
   refused *at commit time*) and marks the tokens used, as ``web/dependencies.current_actor``
   and ``auth.service.touch_token`` do;
2. records the votes with :func:`~stcoord.consultation.service.record_votes` (each vote checked
   by the permission choke point and the consultation rules, set-based; a refused vote gets its
   own error and writes nothing) and their audit records, inside a SAVEPOINT; should the
   database refuse the bulk write, the savepoint is rolled back and each vote is applied again
   in its own SAVEPOINT, so only the bad one fails;
3. commits once; only then are the futures resolved, so a 2xx answer means the vote is durable.
   A failed commit fails every vote of that batch (nothing of it was written).

Writers still queue on ``app.state.write_queue`` (SQLite) before taking a worker thread, like
every other write (``web/dependencies.db_session``). No long-lived task: a drain task starts
when a vote arrives and none is running, and ends when the queue is empty.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from stcoord.auth.permissions import ANONYMOUS, Actor, PermissionDenied
from stcoord.auth.service import Credential, authenticate_many
from stcoord.consultation.service import (
    Ballot,
    StatementCard,
    VoteResult,
    record_votes,
    statement_cards,
)
from stcoord.db.session import Database
from stcoord.errors import Conflict, ServiceError
from stcoord.web.dependencies import bearer_token, request_id

MAX_BATCH = 500  # votes per transaction
GATHER_ROUNDS = 50  # event-loop iterations a batch waits at most for votes still arriving


@dataclass(frozen=True)
class VoteIn:
    key: str
    statement: int
    value: int
    participant: str | None = None
    card: bool = False  # also read the statement's card (text, counts) in the same transaction


@dataclass(frozen=True)
class Outcome:
    """The authenticated actor and the vote's result (or its error, not raised)."""

    actor: Actor
    result: VoteResult | ServiceError | PermissionDenied
    card: StatementCard | None = None  # when asked for and the vote was recorded

    def unwrap(self) -> VoteResult:
        if isinstance(self.result, VoteResult):
            return self.result
        raise self.result


@dataclass
class _Pending:
    credential: Credential
    vote: VoteIn
    future: asyncio.Future[Outcome]


class VoteBatcher:
    """Queue votes and record all that wait in one transaction (see the module docstring)."""

    def __init__(self, database: Database, write_queue: Any = None, max_batch: int = MAX_BATCH):
        self.database = database
        self.write_queue = write_queue if database.sqlite else None
        self.max_batch = max_batch
        self._pending: deque[_Pending] = deque()
        self._drain: asyncio.Task[None] | None = None
        self.batches = 0  # transactions committed (for tests and benchmarks)

    async def submit(self, credential: Credential, vote: VoteIn) -> Outcome:
        """Queue one vote and wait until its transaction committed (or failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._pending.append(_Pending(credential, vote, future))
        if self._drain is None or self._drain.done() or self._drain.get_loop() is not loop:
            self._drain = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._pending:
            await self._gather()
            batch = [
                self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))
            ]
            try:
                if self.write_queue is not None:
                    await self.write_queue.acquire()
                try:
                    outcomes = await run_in_threadpool(self.write, batch)
                finally:
                    if self.write_queue is not None:
                        self.write_queue.release()
            except BaseException as exc:  # the transaction failed: nothing of it was committed
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError(exc)
                        )
                if not isinstance(exc, Exception):
                    raise
                continue
            for p, outcome in zip(batch, outcomes, strict=True):
                if not p.future.done():  # a client that went away cancelled its wait
                    p.future.set_result(outcome)

    async def _gather(self) -> None:
        """Let the votes already received on other connections reach the queue: yield to the
        event loop while the queue still grows (a lone vote waits one loop iteration)."""
        for _ in range(GATHER_ROUNDS):
            before = len(self._pending)
            await asyncio.sleep(0)
            if len(self._pending) == before:
                return

    def write(self, batch: list[_Pending]) -> list[Outcome]:
        """One transaction for the whole batch (runs in a worker thread)."""
        with self.database.scope(write=True) as session:
            actors = authenticate_many(session, [p.credential for p in batch])
            outcomes: list[Outcome | None] = [None] * len(batch)
            ballots: list[Ballot] = []
            slots: list[int] = []
            for i, (p, actor) in enumerate(zip(batch, actors, strict=True)):
                if isinstance(actor, PermissionDenied):
                    outcomes[i] = Outcome(ANONYMOUS, actor)
                    continue
                v = p.vote
                ballots.append(Ballot(actor, v.key, v.statement, v.value, v.participant))
                slots.append(i)
            for i, ballot, result in zip(slots, ballots, _record(session, ballots), strict=True):
                outcomes[i] = Outcome(ballot.actor, result)
            _add_cards(session, batch, outcomes)
        self.batches += 1
        return [o for o in outcomes if o is not None]


def _add_cards(session: Session, batch: list[_Pending], outcomes: list[Outcome | None]) -> None:
    """The statement cards the recorded votes asked for (the page redraws the card from it
    instead of reading the database again after the commit)."""
    asked = [
        (i, o, p.vote)
        for i, (p, o) in enumerate(zip(batch, outcomes, strict=True))
        if p.vote.card and o is not None and isinstance(o.result, VoteResult)
    ]
    if not asked:
        return
    cards = statement_cards(session, [(o.actor, v.key, v.statement) for _, o, v in asked])
    for i, o, v in asked:
        outcomes[i] = replace(o, card=cards.get((v.key, v.statement)))


def _record(
    session: Session, ballots: list[Ballot]
) -> list[VoteResult | ServiceError | PermissionDenied]:
    """All ballots in one SAVEPOINT; if the database refuses that, each in its own."""
    if not ballots:
        return []
    try:
        with session.begin_nested():
            return record_votes(session, ballots)
    except DBAPIError:
        pass
    results: list[VoteResult | ServiceError | PermissionDenied] = []
    for ballot in ballots:
        try:
            with session.begin_nested():
                results.extend(record_votes(session, [ballot]))
        except DBAPIError:
            results.append(Conflict("the vote could not be recorded; please send it again"))
    return results


def credential(request: Request) -> Credential:
    """The request's bearer token or session user (checked in the batch's transaction)."""
    bearer = bearer_token(request)
    user_id = None if bearer else request.session.get("user_id")
    return Credential(bearer, int(user_id) if user_id is not None else None, request_id(request))


def batcher_for(app: FastAPI) -> VoteBatcher:
    """The app's batcher, made on first use (``app.state.vote_batcher``)."""
    batcher: VoteBatcher | None = getattr(app.state, "vote_batcher", None)
    if batcher is None:
        batcher = VoteBatcher(app.state.database, app.state.write_queue)
        app.state.vote_batcher = batcher
    return batcher


async def cast(request: Request, vote: VoteIn) -> Outcome:
    """Record one vote of this request through the app's batcher."""
    return await batcher_for(request.app).submit(credential(request), vote)
