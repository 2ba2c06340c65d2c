"""Request shapes of the consultations API, and plain-dict views shared by the API, CLI and
pages (and the column lists of their CSV/XLSX exports)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stcoord.consultation.models import Consultation
from stcoord.consultation.service import CommentRow, ConsultationRow, StatementRow


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsultationCreate(_In):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=80)
    plan: str
    kind: str
    title: str
    stage: str | None = None
    channels: list[str] | None = None
    description: str | None = None
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    draft_version: int | None = None
    settings: dict[str, Any] | None = None


class StatusIn(_In):
    status: Literal["open", "closed"]
    expected_version: int | None = None


class ParticipantIn(_In):
    sector: str
    organisation: str | None = Field(default=None, max_length=300)
    display_name: str | None = Field(default=None, max_length=200)
    handle: str | None = Field(default=None, max_length=120)  # the office, for someone else


class CommentIn(_In):
    text: str
    section: str | None = None
    participant: str | None = None


class StatementIn(_In):
    text: str
    participant: str | None = None


class VoteIn(_In):
    value: Literal[-1, 0, 1]
    participant: str | None = None


class DispositionIn(_In):
    outcome: str
    reason: str
    expected_version: int | None = None


class ModerationIn(_In):
    target: Literal["statement", "comment"]
    id: int
    hidden: bool = True
    reason: str | None = None


class RatingIn(_In):
    value: float
    rationale: str | None = None
    participant: str | None = None


def consultation_view(c: Consultation, plan_key: str, stage_key: str) -> dict[str, Any]:
    return {
        "key": c.key,
        "title": c.title,
        "kind": c.kind,
        "status": c.status,
        "plan": plan_key,
        "stage": stage_key,
        "channels": list(c.channels),
        "opens_on": c.opens_on,
        "closes_on": c.closes_on,
        "description": c.description,
        "settings": dict(c.settings),
        "version": c.version,
    }


CONSULTATION_COLUMNS = (
    "key",
    "title",
    "kind",
    "status",
    "plan",
    "stage",
    "opens_on",
    "closes_on",
    "participants",
    "comments",
    "unanswered",
    "statements",
    "votes",
)


def consultation_row(r: ConsultationRow) -> dict[str, Any]:
    c = r.consultation
    return {
        "key": c.key,
        "title": c.title,
        "kind": c.kind,
        "status": c.status,
        "plan": r.plan_key,
        "stage": r.stage_key,
        "opens_on": c.opens_on,
        "closes_on": c.closes_on,
        "participants": r.participants,
        "comments": r.comments,
        "unanswered": r.unanswered,
        "statements": r.statements,
        "votes": r.votes,
    }


COMMENT_COLUMNS = (
    "id",
    "section",
    "section_heading",
    "participant",
    "sector",
    "organisation",
    "text",
    "created_at",
    "hidden",
    "outcome",
    "reason",
    "decided_by",
)


def comment_row(r: CommentRow) -> dict[str, Any]:
    d = r.disposition
    return {
        "id": r.comment.id,
        "section": r.comment.section_key,
        "section_heading": r.section_heading,
        "participant": r.participant.display_name,
        "sector": r.participant.sector,
        "organisation": r.participant.organisation,
        "text": r.comment.text,
        "created_at": r.comment.created_at,
        "hidden": r.comment.hidden,
        "outcome": d.outcome if d else None,
        "reason": d.reason if d else None,
        "decided_by": d.decided_by if d else None,
        "disposition_version": d.version if d else None,
    }


STATEMENT_COLUMNS = ("number", "text", "author", "agree", "disagree", "pass", "votes", "hidden")


def statement_row(r: StatementRow) -> dict[str, Any]:
    return {
        "number": r.statement.number,
        "text": r.statement.text,
        "author": r.author.display_name if r.author else None,
        "agree": r.agree,
        "disagree": r.disagree,
        "pass": r.passed,
        "votes": r.votes,
        "hidden": r.statement.hidden,
        "hidden_reason": r.statement.hidden_reason,
        "my_vote": r.my_vote,
    }
