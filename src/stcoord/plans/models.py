"""Tables of a strategic plan: its procedure (copied from a template), content and progress.

A plan copies its template's stages when it is opened, so reloading a mechanism never rewrites
a plan already under way. Bodies are referenced by id (stable across mechanism reloads); a body
removed from its mechanism leaves the task without a lead, which the alignment check reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stcoord.db.base import Base, TimestampMixin, VersionedMixin, utcnow


class Plan(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True, nullable=False
    )
    template_key: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    lead_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    fields: Mapped[Any] = mapped_column(JSON, default="all", nullable=False)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)

    stages: Mapped[list[PlanStage]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanStage.seq"
    )


class PlanStage(Base):
    __tablename__ = "plan_stage"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    actor_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    participants: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    outputs: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    gate: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_end: Mapped[dt.date | None] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="stages")


class PlanEvent(Base):
    """The plan's timeline: every transition and record, with who and when."""

    __tablename__ = "plan_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("plan_stage.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    on_date: Mapped[dt.date | None] = mapped_column(Date)
    actor_name: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)


class StageOutput(Base):
    __tablename__ = "stage_output"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("plan_stage.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    on_date: Mapped[dt.date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)


class StageInput(Base):
    """Input heard at a stage through a channel (an RFI response, a ministry's view, an
    advisory body's opinion); consultations add theirs through the same table."""

    __tablename__ = "stage_input"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("plan_stage.id", ondelete="CASCADE"), index=True, nullable=False
    )
    channel: Mapped[str] = mapped_column(String(40), nullable=False)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="SET NULL"))
    organisation: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    on_date: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)


class DecisionRecord(Base):
    __tablename__ = "decision_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    stage_id: Mapped[int] = mapped_column(
        ForeignKey("plan_stage.id", ondelete="CASCADE"), index=True, nullable=False
    )
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id", ondelete="CASCADE"), nullable=False)
    on_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    attendees: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    votes_for: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    votes_against: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    consensus: Mapped[bool] = mapped_column(default=False, nullable=False)
    chair_decided: Mapped[bool] = mapped_column(default=False, nullable=False)
    quorum_report: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    minutes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)


class Draft(Base):
    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("plan_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)

    sections: Mapped[list[DraftSection]] = relationship(
        back_populates="draft", cascade="all, delete-orphan", order_by="DraftSection.seq"
    )


class DraftSection(Base):
    __tablename__ = "draft_section"
    __table_args__ = (UniqueConstraint("draft_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(
        ForeignKey("draft.id", ondelete="CASCADE"), index=True, nullable=False
    )
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    heading: Mapped[str] = mapped_column(String(300), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")

    draft: Mapped[Draft] = relationship(back_populates="sections")


class Goal(VersionedMixin, Base):
    """A node of the goal tree: goal, objective or target."""

    __tablename__ = "goal"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    description: Mapped[str | None] = mapped_column(Text)


class Task(VersionedMixin, Base):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    lead_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    weight: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    budget_link: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    supporting: Mapped[list[TaskSupport]] = relationship(
        back_populates="task", cascade="all, delete-orphan"
    )

    @classmethod
    def in_bodies(cls, body_ids: list[int]) -> ColumnElement[bool]:
        """SQL: the task is led or supported by one of ``body_ids``."""
        supported = select(TaskSupport.task_id).where(TaskSupport.body_id.in_(body_ids))
        return or_(cls.lead_body_id.in_(body_ids), cls.id.in_(supported))

    @property
    def responsible_body_ids(self) -> set[int]:
        """The lead and supporting bodies: their liaisons may report on this task."""
        ids = {s.body_id for s in self.supporting}
        return ids | {self.lead_body_id} if self.lead_body_id else ids


class TaskSupport(Base):
    __tablename__ = "task_support"
    __table_args__ = (UniqueConstraint("task_id", "body_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True, nullable=False
    )
    body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )

    task: Mapped[Task] = relationship(back_populates="supporting")


class Milestone(VersionedMixin, Base):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True, nullable=False
    )
    code: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    due: Mapped[dt.date] = mapped_column(Date, nullable=False)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    weight: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)


class Indicator(VersionedMixin, Base):
    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), index=True, nullable=False
    )
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"))
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("task.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    unit: Mapped[str] = mapped_column(String(80), nullable=False)
    baseline: Mapped[float] = mapped_column(Float, nullable=False)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    target: Mapped[float] = mapped_column(Float, nullable=False)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)  # increase | decrease
    weight: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    source: Mapped[str | None] = mapped_column(Text)


class Measurement(Base):
    __tablename__ = "measurement"
    __table_args__ = (UniqueConstraint("indicator_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicator.id", ondelete="CASCADE"), index=True, nullable=False
    )
    on_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(80), nullable=False)


class ProgressReport(Base):
    __tablename__ = "progress_report"
    __table_args__ = (UniqueConstraint("task_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True, nullable=False
    )
    period: Mapped[str] = mapped_column(String(20), nullable=False)  # e.g. 2024-Q1
    percent_complete: Mapped[float] = mapped_column(Float, nullable=False)
    narrative: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
