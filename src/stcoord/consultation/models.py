"""Tables of the consultation domain.

A consultation belongs to one stage of a plan (by id; shown by plan key and stage key) and counts
for some of the channels that stage must hear. Participants register with a sector and an
organisation (linked to a user when signed in, or to an external id for imported conversations).
They comment on sections of a draft, write statements and vote on them, and rate statements in
Delphi rounds. Every comment receives a disposition before the stage can close.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stcoord.db.base import Base, TimestampMixin, VersionedMixin, utcnow

KINDS = ("public_comment", "rfi", "expert_panel", "delphi", "conversation")
STATUSES = ("open", "closed")
SECTORS = ("ministry", "industry", "academia", "civil_society", "individual")
OUTCOMES = ("adopted", "partly_adopted", "not_adopted", "out_of_scope")
VOTE_VALUES = (-1, 0, 1)  # disagree, pass, agree (the Polis convention)


class Consultation(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("plan_stage.id", ondelete="CASCADE"), index=True, nullable=False
    )
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    opens_on: Mapped[dt.date | None] = mapped_column(Date)
    closes_on: Mapped[dt.date | None] = mapped_column(Date)
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    # Delphi: scale and convergence rule (max_iqr, max_median_shift, min_w, max_rounds)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)


class Participant(Base):
    __tablename__ = "consultation_participant"
    __table_args__ = (UniqueConstraint("consultation_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    handle: Mapped[str] = mapped_column(String(120), nullable=False)  # user:<name> | polis:<pid>
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    sector: Mapped[str] = mapped_column(String(20), nullable=False)
    organisation: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    @property
    def actor_id(self) -> int | None:  # OWN_RECORDS scope of the permission policy
        return self.user_id


class Comment(Base):
    __tablename__ = "consultation_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_participant.id", ondelete="CASCADE"), index=True, nullable=False
    )
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft_section.id", ondelete="SET NULL"), index=True
    )
    section_key: Mapped[str | None] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by: Mapped[str | None] = mapped_column(String(80))


class Disposition(VersionedMixin, Base):
    """The official answer to one comment."""

    __tablename__ = "consultation_disposition"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_comment.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    decided_by: Mapped[str] = mapped_column(String(80), nullable=False)
    decided_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


class Statement(Base):
    __tablename__ = "consultation_statement"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # Polis's comment-id
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_participant.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by: Mapped[str | None] = mapped_column(String(80))


class Vote(Base):
    __tablename__ = "consultation_vote"
    __table_args__ = (UniqueConstraint("participant_id", "statement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_statement.id", ondelete="CASCADE"), index=True, nullable=False
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_participant.id", ondelete="CASCADE"), nullable=False
    )
    value: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


class DelphiRound(Base):
    __tablename__ = "delphi_round"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # On closing: per statement number its n, median, q1, q3, iqr; Kendall's W; converged.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class DelphiRating(Base):
    __tablename__ = "delphi_rating"
    __table_args__ = (UniqueConstraint("round_id", "statement_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("delphi_round.id", ondelete="CASCADE"), index=True, nullable=False
    )
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_statement.id", ondelete="CASCADE"), nullable=False
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_participant.id", ondelete="CASCADE"), index=True, nullable=False
    )
    value: Mapped[float] = mapped_column(Float, nullable=False)
    rationale: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


class ChannelInput(Base):
    """The plan's :class:`~stcoord.plans.models.StageInput` row that says this consultation
    heard a channel (one per consultation and channel): the gate ``channels_heard`` reads it."""

    __tablename__ = "consultation_channel_input"
    __table_args__ = (UniqueConstraint("consultation_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    channel: Mapped[str] = mapped_column(String(40), nullable=False)
    stage_input_id: Mapped[int] = mapped_column(
        ForeignKey("stage_input.id", ondelete="CASCADE"), nullable=False
    )
