"""Group commit of votes (web/vote_batcher.py) on both databases: votes sent at once
are all committed with their audit records in one transaction, a bad vote gets its own error
while the others commit, a change of vote is audited like ``cast_vote`` does, and a failed
commit fails every vote of its batch with nothing written."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from stcoord.audit.models import AuditRecord
from stcoord.auth.models import ApiToken, User
from stcoord.auth.permissions import SYSTEM, PermissionDenied, Role
from stcoord.auth.service import Credential, revoke_token
from stcoord.consultation import service
from stcoord.consultation.models import Vote
from stcoord.db.session import Database
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.web import vote_batcher
from stcoord.web.vote_batcher import Outcome, VoteBatcher, VoteIn
from tests.consultation.conftest import KEY, actor
from tests.helpers import token_for

HANDLES = [f"p{i}" for i in range(12)]


@pytest.fixture
def vdb(cdb: Database) -> Database:
    """Twelve participants registered by the office (p0-p11), ``ind`` registered as
    themselves, three statements, the third moderated out."""
    with cdb.scope() as session:
        for handle in HANDLES:
            service.register(session, SYSTEM, key=KEY, sector="individual", handle=handle)
        service.register(session, actor(cdb, "ind"), key=KEY, sector="individual")
        for text in ("One", "Two", "Three"):
            service.add_statement(session, SYSTEM, key=KEY, text=text, participant="p0")
        service.moderate(
            session, SYSTEM, key=KEY, target="statement", ident=3, hidden=True, reason="spam"
        )
    return cdb


def _user_id(db: Database, username: str) -> int:
    with db.scope(write=False) as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def _send(
    batcher: VoteBatcher, votes: list[tuple[Credential, VoteIn]]
) -> list[Outcome | Exception]:
    """Send every vote at the same instant and wait for all of them."""

    async def all_at_once() -> list[Any]:
        return await asyncio.gather(
            *(batcher.submit(c, v) for c, v in votes), return_exceptions=True
        )

    return asyncio.run(all_at_once())


def _votes(db: Database) -> dict[tuple[str, int], int]:
    from stcoord.consultation.models import Participant, Statement

    with db.scope(write=False) as session:
        rows = session.execute(
            select(Participant.handle, Statement.number, Vote.value)
            .join(Participant, Participant.id == Vote.participant_id)
            .join(Statement, Statement.id == Vote.statement_id)
        )
        return {(h, n): v for h, n, v in rows}


def _vote_audits(db: Database) -> list[tuple[Any, ...]]:
    with db.scope(write=False) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(
                    AuditRecord.actor_name,
                    AuditRecord.request_id,
                    AuditRecord.action,
                    AuditRecord.object_key,
                    AuditRecord.before,
                    AuditRecord.after,
                )
                .where(AuditRecord.action.like("vote.%"))
                .order_by(AuditRecord.id)
            )
        ]


def test_votes_sent_at_once_commit_together_each_with_its_audit_record(vdb: Database) -> None:
    office = _user_id(vdb, "office")
    batcher = VoteBatcher(vdb, anyio.Lock())
    votes = [
        (Credential(None, office, f"r{h}-{n}"), VoteIn(KEY, n, (i + n) % 3 - 1, h))
        for i, h in enumerate(HANDLES)
        for n in (1, 2)
    ]
    outcomes = _send(batcher, votes)
    assert [o.unwrap().value for o in outcomes if isinstance(o, Outcome)] == [
        v.value for _, v in votes
    ]
    assert batcher.batches == 1  # all 24 in one transaction
    assert _votes(vdb) == {(v.participant, v.statement): v.value for _, v in votes}
    audits = _vote_audits(vdb)
    assert len(audits) == 24
    assert audits[0] == (
        "office",
        "rp0-1",
        "vote.cast",
        f"{KEY}/statement/1",
        None,
        {"participant": "p0", "value": 0},
    )


def test_a_vote_asking_for_its_card_gets_the_counts_after_the_whole_batch(vdb: Database) -> None:
    office = _user_id(vdb, "office")
    batcher = VoteBatcher(vdb, anyio.Lock())
    votes = [(Credential(None, office, f"r{h}"), VoteIn(KEY, 1, 1, h)) for h in HANDLES[:5]]
    votes += [
        (Credential(None, office, "rd"), VoteIn(KEY, 1, -1, HANDLES[5], card=True)),
        (Credential(None, office, "rp"), VoteIn(KEY, 2, 0, HANDLES[6], card=True)),
        (Credential(None, office, "rx"), VoteIn(KEY, 99, 1, HANDLES[7], card=True)),  # refused
    ]
    outcomes = _send(batcher, votes)
    cards = [o.card if isinstance(o, Outcome) else o for o in outcomes]
    assert cards[:5] == [None] * 5  # not asked for
    assert cards[5] == service.StatementCard(1, "One", agree=5, disagree=1, passed=0)
    assert cards[6] == service.StatementCard(2, "Two", agree=0, disagree=0, passed=1)
    assert cards[7] is None and isinstance(outcomes[7], Outcome)
    assert isinstance(outcomes[7].result, NotFound)


def test_a_bad_vote_gets_its_own_error_and_the_others_commit(vdb: Database) -> None:
    ind_token = token_for(vdb, "ind2", Role.stakeholder)
    with vdb.scope() as session:
        service.register(session, actor(vdb, "ind2"), key=KEY, sector="industry")
    revoked = token_for(vdb, "gone", Role.stakeholder)
    with vdb.scope() as session:
        token_id = session.scalars(select(ApiToken.id).order_by(ApiToken.id.desc())).first()
        revoke_token(session, actor(vdb, "gone"), token_id=token_id)
    me = Credential(ind_token, None, "r")
    batcher = VoteBatcher(vdb, anyio.Lock())
    outcomes = _send(
        batcher,
        [
            (me, VoteIn(KEY, 1, 1)),  # good
            (me, VoteIn(KEY, 99, 1)),  # no such statement
            (me, VoteIn(KEY, 3, 1)),  # moderated out
            (me, VoteIn(KEY, 2, 7)),  # not a vote value
            (me, VoteIn(KEY, 2, -1, "p1")),  # a stakeholder votes only as themselves
            (me, VoteIn("nope", 1, 1)),  # no such consultation
            (Credential(revoked, None, "r"), VoteIn(KEY, 2, 1)),  # revoked token
            (Credential(None, None, "r"), VoteIn(KEY, 2, 1)),  # anonymous
            (me, VoteIn(KEY, 2, -1)),  # good
        ],
    )
    results = [o.result for o in outcomes if isinstance(o, Outcome)]
    assert len(results) == 9
    assert [type(r).__name__ for r in results] == [
        "VoteResult",
        "NotFound",
        "ValidationFailed",
        "ValidationFailed",
        "PermissionDenied",
        "NotFound",
        "PermissionDenied",
        "PermissionDenied",
        "VoteResult",
    ]
    assert isinstance(results[1], NotFound) and "no statement 99" in str(results[1])
    assert isinstance(results[2], ValidationFailed) and "moderated out" in str(results[2])
    assert isinstance(results[6], PermissionDenied) and "revoked" in str(results[6])
    assert _votes(vdb) == {("user:ind2", 1): 1, ("user:ind2", 2): -1}
    assert [a[2:4] for a in _vote_audits(vdb)] == [
        ("vote.cast", f"{KEY}/statement/1"),
        ("vote.cast", f"{KEY}/statement/2"),
    ]
    with vdb.scope(write=False) as session:  # the token was marked used in the same commit
        used = session.scalars(select(ApiToken.last_used_at).order_by(ApiToken.id)).all()
    assert used[-2] is not None and used[-1] is None


def test_a_change_of_vote_is_audited_as_cast_vote_does(vdb: Database) -> None:
    office = _user_id(vdb, "office")
    me = Credential(None, office, "batch")
    batcher = VoteBatcher(vdb, anyio.Lock())
    # p0 in one batch: cast, change, same again (no record); then change again in a second one
    _send(batcher, [(me, VoteIn(KEY, 1, 1, "p0")), (me, VoteIn(KEY, 1, -1, "p0"))])
    _send(batcher, [(me, VoteIn(KEY, 1, -1, "p0")), (me, VoteIn(KEY, 1, 0, "p0"))])
    # p1, the same votes through cast_vote one transaction each
    office_actor = actor(vdb, "office")
    for value in (1, -1, -1, 0):
        with vdb.scope() as session:
            service.cast_vote(
                session, office_actor, key=KEY, statement=1, value=value, participant="p1"
            )
    assert _votes(vdb) == {("p0", 1): 0, ("p1", 1): 0}
    batched: list[tuple[Any, ...]] = []
    single: list[tuple[Any, ...]] = []
    for name, _rid, action, key, before, after in _vote_audits(vdb):
        (batched if after["participant"] == "p0" else single).append(
            (name, action, key, before, after["value"])
        )
    assert (
        batched
        == single
        == [
            ("office", "vote.cast", f"{KEY}/statement/1", None, 1),
            ("office", "vote.change", f"{KEY}/statement/1", {"value": 1}, -1),
            ("office", "vote.change", f"{KEY}/statement/1", {"value": -1}, 0),
        ]
    )


def test_a_failed_commit_fails_every_vote_of_its_batch(
    vdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = _user_id(vdb, "office")
    me = Credential(None, office, "r")

    def refuse(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "commit", refuse)
    batcher = VoteBatcher(vdb, anyio.Lock())
    outcomes = _send(batcher, [(me, VoteIn(KEY, 1, 1, h)) for h in HANDLES])
    assert all(isinstance(o, OperationalError) for o in outcomes)
    monkeypatch.undo()
    assert _votes(vdb) == {} and _vote_audits(vdb) == []
    # and the batcher goes on with the next votes
    assert _send(batcher, [(me, VoteIn(KEY, 1, 1, "p0"))])[0].unwrap().changed  # type: ignore[union-attr]
    assert _votes(vdb) == {("p0", 1): 1}


def test_when_the_bulk_write_is_refused_each_vote_is_retried_alone(
    vdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = vote_batcher.record_votes

    def refuse_p3(session: Session, ballots: list[service.Ballot]) -> list[Any]:
        results = real(session, ballots)
        session.flush()
        if any(b.participant == "p3" for b in ballots):
            raise IntegrityError("INSERT", {}, Exception("constraint failed"))
        return results

    monkeypatch.setattr(vote_batcher, "record_votes", refuse_p3)
    me = Credential(None, _user_id(vdb, "office"), "r")
    outcomes = _send(VoteBatcher(vdb, anyio.Lock()), [(me, VoteIn(KEY, 2, 1, h)) for h in HANDLES])
    failed = [i for i, o in enumerate(outcomes) if not isinstance(o.result, service.VoteResult)]  # type: ignore[union-attr]
    assert failed == [3]
    assert isinstance(outcomes[3], Outcome) and isinstance(outcomes[3].result, Conflict)
    assert _votes(vdb) == {(h, 2): 1 for h in HANDLES if h != "p3"}
    assert len(_vote_audits(vdb)) == len(HANDLES) - 1
