"""Tables of the advisory domain: reports of advisory bodies, their numbered recommendations, the
government's responses, links to plan tasks, and each recommendation's status history.

A report names its advisory body by jurisdiction code and body key (kept as text, so the record
survives a mechanism reload that drops the body) and by ``body_id`` (for scoping: an advisor
writes only the reports of the bodies they sit on). A recommendation carries its current status
and benefit; every change of status is kept in ``advisory_status_change``, every response in
``advisory_response`` (the latest is the current position), as GAO's action tracker does.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stcoord.db.base import Base, Money, TimestampMixin, VersionedMixin, utcnow

POSITIONS = ("accept", "partly_accept", "reject", "under_consideration")
STATUSES = ("open", "partly_addressed", "fully_addressed")


class AdvisoryReport(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "advisory_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    body_key: Mapped[str] = mapped_column(String(80), nullable=False)
    body_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    unverified: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)

    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Recommendation.seq"
    )

    @property
    def responsible_body_ids(self) -> set[int]:
        """The advisory body that filed it: its advisors may edit it."""
        return {self.body_id} if self.body_id is not None else set()


class Recommendation(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "advisory_recommendation"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("advisory_report.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[str] = mapped_column(String(20), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    addressed_to: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open", index=True)
    status_on: Mapped[dt.date | None] = mapped_column(Date)
    benefit: Mapped[str | None] = mapped_column(Text)
    benefit_amount: Mapped[Decimal | None] = mapped_column(Money)
    benefit_currency: Mapped[str | None] = mapped_column(String(3))
    evidence: Mapped[str | None] = mapped_column(Text)

    report: Mapped[AdvisoryReport] = relationship(back_populates="recommendations")
    responses: Mapped[list[Response]] = relationship(
        back_populates="recommendation",
        cascade="all, delete-orphan",
        order_by="Response.id",
    )
    links: Mapped[list[TaskLink]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan", order_by="TaskLink.id"
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan", order_by="StatusChange.id"
    )

    @classmethod
    def in_bodies(cls, body_ids: list[int]) -> ColumnElement[bool]:
        """SQL: the recommendation belongs to a report of one of ``body_ids``."""
        return cls.report_id.in_(
            select(AdvisoryReport.id).where(AdvisoryReport.body_id.in_(body_ids))
        )

    @property
    def responsible_body_ids(self) -> set[int]:
        return self.report.responsible_body_ids

    @property
    def position(self) -> str | None:
        """The government's current position: that of its latest response."""
        return self.responses[-1].position if self.responses else None


class Response(Base):
    """The government's recorded response to a recommendation (the latest one counts)."""

    __tablename__ = "advisory_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("advisory_recommendation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[str] = mapped_column(String(30), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    responding_body_key: Mapped[str | None] = mapped_column(String(80))
    responding_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    on_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    recommendation: Mapped[Recommendation] = relationship(back_populates="responses")


class TaskLink(Base):
    """A plan task that carries out (part of) a recommendation."""

    __tablename__ = "advisory_task_link"
    __table_args__ = (UniqueConstraint("recommendation_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("advisory_recommendation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    task_id: Mapped[int] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE"), index=True, nullable=False
    )
    linked_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    recommendation: Mapped[Recommendation] = relationship(back_populates="links")


class StatusChange(Base):
    """One step of a recommendation towards closure, with the benefit claimed at that point."""

    __tablename__ = "advisory_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("advisory_recommendation.id", ondelete="CASCADE"), index=True, nullable=False
    )
    from_status: Mapped[str] = mapped_column(String(20), nullable=False)
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    on_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    benefit: Mapped[str | None] = mapped_column(Text)
    benefit_amount: Mapped[Decimal | None] = mapped_column(Money)
    benefit_currency: Mapped[str | None] = mapped_column(String(3))
    evidence: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    recommendation: Mapped[Recommendation] = relationship(back_populates="history")
