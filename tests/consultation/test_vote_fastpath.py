"""The API vote's fast path (web/vote_fastpath.py) answers exactly as the full route does.

Every request below is sent to two apps on the same database: the real one (with the fast
path) and one built without it (the FastAPI route alone). Status and body must be identical,
for recorded votes and for every kind of refusal, and the valid votes must really have taken
the fast path (the route's own code is made to fail in the fast app)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stcoord.audit.models import AuditRecord
from stcoord.auth.models import ApiToken, User
from stcoord.auth.permissions import SYSTEM, Role
from stcoord.config import Settings
from stcoord.consultation import service
from stcoord.consultation.models import Vote
from stcoord.db.session import Database
from stcoord.web.app import create_app
from stcoord.web.vote_fastpath import VoteFastPath, parse_vote
from tests.consultation.conftest import KEY, actor
from tests.helpers import token_for

RID = "rid-fastpath-1"


@pytest.fixture
def tokens(cdb: Database) -> dict[str, str]:
    """Tokens of: ``voter`` (registered stakeholder), ``stranger`` (stakeholder, not
    registered), ``viewer`` and ``revoked``; statements 1-3 with 3 moderated out."""
    out = {
        "voter": token_for(cdb, "voter", Role.stakeholder),
        "stranger": token_for(cdb, "stranger", Role.stakeholder),
        "viewer": token_for(cdb, "viewer1", Role.viewer),
        "revoked": token_for(cdb, "gone", Role.stakeholder),
    }
    with cdb.scope() as session:
        service.register(session, actor(cdb, "voter"), key=KEY, sector="industry")
        service.register(session, SYSTEM, key=KEY, sector="individual", handle="p0")
        for text in ("One", "Two", "Three"):
            service.add_statement(session, SYSTEM, key=KEY, text=text, participant="p0")
        service.moderate(
            session, SYSTEM, key=KEY, target="statement", ident=3, hidden=True, reason="spam"
        )
        gone = session.scalars(select(ApiToken).join(User).where(User.username == "gone")).one()
        gone.revoked = True
    return out


def _without_fast_path(settings: Settings, db: Database) -> Any:
    app = create_app(settings, db)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not VoteFastPath]
    return app


def _put(client: TestClient, path: str, token: str | None, body: bytes) -> tuple[int, Any]:
    headers = {"x-request-id": RID, "content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    r = client.put(path, content=body, headers=headers)
    return r.status_code, r.json()


VOTE = f"/api/v1/consultations/{KEY}/statements/%s/vote"
# (label, path, token name, body, expected status)
CASES = [
    ("agree", VOTE % 1, "voter", b'{"value": 1}', 200),
    ("change to disagree", VOTE % 1, "voter", b'{"value":-1}', 200),
    ("pass on another", VOTE % 2, "voter", b'{"value": 0}', 200),
    ("as another's handle", VOTE % 2, "voter", b'{"value": 1, "participant": "p0"}', 403),
    ("no such statement", VOTE % 99, "voter", b'{"value": 1}', 404),
    ("moderated statement", VOTE % 3, "voter", b'{"value": 1}', 422),
    (
        "no such consultation",
        "/api/v1/consultations/nope/statements/1/vote",
        "voter",
        b'{"value": 1}',
        404,
    ),
    ("not registered", VOTE % 1, "stranger", b'{"value": 1}', 422),
    ("viewer", VOTE % 1, "viewer", b'{"value": 1}', 422),
    ("revoked token", VOTE % 1, "revoked", b'{"value": 1}', 401),
    ("unknown token", VOTE % 1, None, b'{"value": 1}', 401),
    ("value out of range", VOTE % 1, "voter", b'{"value": 5}', 422),
    ("value true", VOTE % 1, "voter", b'{"value": true}', None),
    ("value as text", VOTE % 1, "voter", b'{"value": "1"}', None),
    ("extra field", VOTE % 1, "voter", b'{"value": 1, "weight": 2}', 422),
    ("not JSON", VOTE % 1, "voter", b"{value: 1", 422),
    ("a list", VOTE % 1, "voter", b"[1]", 422),
    ("statement not a number", VOTE % "x", "voter", b'{"value": 1}', 422),
]


def test_fast_path_answers_as_the_route_does(
    cdb: Database, settings: Settings, tokens: dict[str, str]
) -> None:
    """Each case in turn, first through the route alone, then through the fast path."""
    unknown = {"unknown token": "unknown-token"}
    with (
        TestClient(create_app(settings, cdb)) as fast,
        TestClient(_without_fast_path(settings, cdb)) as slow,
    ):
        for label, path, who, body, expected in CASES:
            token = tokens[who] if who else unknown.get(label)
            route = _put(slow, path, token, body)
            quick = _put(fast, path, token, body)
            assert quick == route, label
            if expected is not None:
                assert quick[0] == expected, (label, quick)
            if quick[0] >= 400:
                assert quick[1]["error"]["request_id"] == RID, label


def test_valid_votes_take_the_fast_path_and_are_recorded_and_audited(
    cdb: Database, settings: Settings, tokens: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stcoord.consultation import api

    def route_must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the vote went through the FastAPI route")

    monkeypatch.setattr(api.vote_batcher, "cast", route_must_not_run)
    with TestClient(create_app(settings, cdb)) as client:
        assert _put(client, VOTE % 1, tokens["voter"], b'{"value": 1}') == (
            200,
            {"statement": 1, "value": 1},
        )
        assert _put(client, VOTE % 2, tokens["voter"], b'{"value": -1}')[0] == 200
    with cdb.scope(write=False) as session:
        assert session.scalar(select(func.count(Vote.id))) == 2
        audits = session.execute(
            select(AuditRecord.action, AuditRecord.actor_name, AuditRecord.request_id).where(
                AuditRecord.action.like("vote.%")
            )
        ).all()
    assert sorted(audits) == [("vote.cast", "voter", RID), ("vote.cast", "voter", RID)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"value": 1}', (1, None)),
        (b'{"value": -1, "participant": "p7"}', (-1, "p7")),
        (b'{"value": 0, "participant": null}', (0, None)),
        (b'{"value": 2}', None),
        (b'{"value": true}', None),
        (b'{"value": 1.0}', None),
        (b'{"participant": "p7"}', None),
        (b'{"value": 1, "participant": 7}', None),
        (b'{"value": 1, "x": 0}', None),
        (b"null", None),
        (b"", None),
        (b"\xff", None),
    ],
)
def test_parse_vote_accepts_only_what_the_schema_accepts(
    body: bytes, expected: tuple[int, str | None] | None
) -> None:
    vote = parse_vote("k", "4", body)
    if expected is None:
        assert vote is None
    else:
        assert vote is not None
        assert (vote.key, vote.statement, vote.value, vote.participant) == ("k", 4, *expected)
