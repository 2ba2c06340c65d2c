"""Bring a Polis conversation into a consultation, and take one out in Polis's formats.

The files are read by :mod:`stcoord.consultation.polis_format` (every bad cell reported with its
file, row and column); everything is checked before anything is written, and the import is one
transaction: participants (``polis:<id>``), statements numbered by Polis's comment ids (those
moderated out, ``moderated = -1``, are hidden with that reason) and each participant's last vote
on a statement. One audit record summarises the import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.consultation import service
from stcoord.consultation.dashboard import votes_of
from stcoord.consultation.models import SECTORS, Participant, Statement, Vote
from stcoord.consultation.polis_format import PolisComment, PolisExport, write_export
from stcoord.errors import Conflict, ValidationFailed

MODERATED_OUT = "moderated out in Polis"


@dataclass(frozen=True)
class ImportResult:
    consultation: str
    participants: int
    statements: int
    hidden: int
    votes: int


def import_export(
    session: Session,
    actor: Actor,
    *,
    key: str,
    export: PolisExport,
    sector: str = "individual",
    sectors: Mapping[str, str] | None = None,
) -> ImportResult:
    """Load a Polis export into consultation ``key`` (which must have no statements yet).

    Participants get ``sector`` unless ``sectors`` (Polis participant id -> sector) says.
    """
    c = service.get_consultation(session, actor, key)
    require(actor, "consultation.manage", c)
    sectors = dict(sectors or {})
    problems: list[tuple[str, str]] = []
    if sector not in SECTORS:
        problems.append(("sector", f"unknown sector {sector!r}; use one of {SECTORS}"))
    for pid, s in sorted(sectors.items()):
        if s not in SECTORS:
            problems.append((f"sectors[{pid}]", f"unknown sector {s!r}"))
    comments = {cm.id: cm for cm in export.comments}
    votes = export.analysis_votes()
    statement_ids = set(comments) | {v.statement for v in votes}
    for sid in sorted(statement_ids):
        if not sid.isdigit():
            problems.append(("comment-id", f"statement id {sid!r} is not a whole number"))
    if not votes and not comments:
        problems.append(("votes.csv", "the export holds no comments and no votes"))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(Statement.id).where(Statement.consultation_id == c.id).limit(1)):
        raise Conflict(f"consultation {key!r} already has statements: import into a new one")

    participant_ids = sorted(
        {v.participant for v in votes} | {cm.author for cm in comments.values() if cm.author},
        key=lambda p: (len(p), p),
    )
    existing = dict(
        session.execute(
            select(Participant.handle, Participant.id).where(Participant.consultation_id == c.id)
        ).all()
    )
    new_people = [
        {
            "consultation_id": c.id,
            "handle": f"polis:{pid}",
            "display_name": f"Participant {pid}",
            "sector": sectors.get(pid, sector),
            "organisation": None,
        }
        for pid in participant_ids
        if f"polis:{pid}" not in existing
    ]
    if new_people:
        session.execute(insert(Participant), new_people)
    pid_of = dict(
        session.execute(
            select(Participant.handle, Participant.id).where(Participant.consultation_id == c.id)
        ).all()
    )
    moderated = set(export.excluded_statements())
    rows = []
    for sid in sorted(statement_ids, key=int):
        cm = comments.get(sid) or PolisComment(id=sid, body=f"Statement {sid}")
        hidden = sid in moderated
        rows.append(
            {
                "consultation_id": c.id,
                "number": int(sid),
                "participant_id": pid_of.get(f"polis:{cm.author}") if cm.author else None,
                "text": cm.body or f"Statement {sid}",
                "hidden": hidden,
                "hidden_reason": MODERATED_OUT if hidden else None,
                "hidden_by": actor.username if hidden else None,
            }
        )
    session.execute(insert(Statement), rows)
    sid_of = dict(
        session.execute(
            select(Statement.number, Statement.id).where(Statement.consultation_id == c.id)
        ).all()
    )
    last: dict[tuple[str, str], int] = {}
    for v in votes:  # oldest first: the last vote on a statement counts
        last[(v.participant, v.statement)] = v.value
    vote_rows = [
        {
            "consultation_id": c.id,
            "statement_id": sid_of[int(s)],
            "participant_id": pid_of[f"polis:{p}"],
            "value": value,
        }
        for (p, s), value in last.items()
    ]
    for start in range(0, len(vote_rows), 5000):
        session.execute(insert(Vote), vote_rows[start : start + 5000])
    # who was heard: one participant per sector present is enough for the channels
    for s in sorted({sectors.get(p, sector) for p in participant_ids}):
        person = session.scalar(
            select(Participant).where(Participant.consultation_id == c.id, Participant.sector == s)
        )
        if person is not None:
            service.note_heard(session, actor, c, person)
    result = ImportResult(
        consultation=key,
        participants=len(new_people),
        statements=len(rows),
        hidden=sum(1 for r in rows if r["hidden"]),
        votes=len(vote_rows),
    )
    record_change(
        session,
        actor,
        action="consultation.import",
        object_type="consultation",
        object_key=key,
        before=None,
        after={
            "files": dict(export.files),
            "participants": result.participants,
            "statements": result.statements,
            "hidden": result.hidden,
            "votes": result.votes,
        },
    )
    return result


def export_polis(
    session: Session, actor: Actor, *, key: str, directory: str | Path
) -> dict[str, Path]:
    """Write the consultation's statements, votes and our opinion groups as a Polis export."""
    from stcoord.analytics.consensus import analyze

    c = service.get_consultation(session, actor, key)
    require(actor, "consultation.office", c)
    statements = list(
        session.scalars(
            select(Statement).where(Statement.consultation_id == c.id).order_by(Statement.number)
        )
    )
    votes = votes_of(session, c)
    if not votes:
        raise ValidationFailed([("votes", f"consultation {key!r} has no votes to export")])
    excluded = [str(s.number) for s in statements if s.hidden]
    analysis = analyze(votes, excluded_statements=excluded)
    comments = [
        PolisComment(
            id=str(s.number),
            body=s.text,
            author=str(s.participant_id or ""),
            moderated=-1 if s.hidden else 1,
        )
        for s in statements
    ]
    paths = write_export(
        directory,
        analysis,
        votes,
        comments=comments,
        summary={"topic": c.title, "conversation-description": c.description or ""},
    )
    return paths


def import_summary(result: ImportResult) -> dict[str, Any]:
    return {
        "consultation": result.consultation,
        "participants": result.participants,
        "statements": result.statements,
        "hidden": result.hidden,
        "votes": result.votes,
    }
