"""Tables of the budget cube: fiscal year x agency x program x line x field x phase.

A line carries its amount in each phase (request, estimate, enacted, actual). Its split across
fields lives in ``budget_share`` together with the phase amounts times the share, so a crosscut
by field is one GROUP BY over one table (measured in benchmarks/bench_crosscut.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stcoord.db.base import Base, Money, TimestampMixin, VersionedMixin, utcnow

PHASES = ("request", "estimate", "enacted", "actual")


class Classification(TimestampMixin, Base):
    """A versioned set of fields (e.g. NITRD program component areas from FY2020)."""

    __tablename__ = "budget_classification"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), nullable=False)
    valid_from: Mapped[int | None] = mapped_column(Integer)  # first fiscal year
    valid_to: Mapped[int | None] = mapped_column(Integer)  # last fiscal year, None = current
    description: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)

    fields: Mapped[list[BudgetField]] = relationship(
        back_populates="classification", cascade="all, delete-orphan", order_by="BudgetField.seq"
    )


class BudgetField(Base):
    __tablename__ = "budget_field"
    __table_args__ = (UniqueConstraint("classification_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("budget_classification.id", ondelete="CASCADE"), index=True, nullable=False
    )
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    strategic_field: Mapped[str | None] = mapped_column(String(80))  # a mechanism field key

    classification: Mapped[Classification] = relationship(back_populates="fields")


class FieldMapping(Base):
    """How a field of one classification version carries over into another (with a share)."""

    __tablename__ = "budget_field_mapping"
    __table_args__ = (UniqueConstraint("from_field_id", "to_field_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_field_id: Mapped[int] = mapped_column(
        ForeignKey("budget_field.id", ondelete="CASCADE"), index=True, nullable=False
    )
    to_field_id: Mapped[int] = mapped_column(
        ForeignKey("budget_field.id", ondelete="CASCADE"), index=True, nullable=False
    )
    share: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)


class Agency(Base):
    """A funding organisation in budget data, linked to a mechanism body where one matches."""

    __tablename__ = "budget_agency"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(120), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("body.id", ondelete="SET NULL"))


class Program(Base):
    __tablename__ = "budget_program"
    __table_args__ = (UniqueConstraint("agency_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("budget_agency.id", ondelete="CASCADE"), index=True, nullable=False
    )
    code: Mapped[str] = mapped_column(String(120), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)


class DataCall(TimestampMixin, Base):
    """The office's request to agencies for next year's budget lines."""

    __tablename__ = "budget_data_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("budget_classification.id"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    due: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")

    submissions: Mapped[list[Submission]] = relationship(
        back_populates="data_call", cascade="all, delete-orphan"
    )


class Submission(Base):
    __tablename__ = "budget_submission"
    __table_args__ = (UniqueConstraint("data_call_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_call_id: Mapped[int] = mapped_column(
        ForeignKey("budget_data_call.id", ondelete="CASCADE"), index=True, nullable=False
    )
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("budget_agency.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(80))
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stated_total: Mapped[Decimal | None] = mapped_column(Money)

    data_call: Mapped[DataCall] = relationship(back_populates="submissions")


class BudgetLine(VersionedMixin, Base):
    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("jurisdiction_code", "fiscal_year", "agency_id", "line_key"),
        # Covering index for crosscuts without fields: the GROUP BY reads only the index.
        Index(
            "ix_budget_line_cube",
            "jurisdiction_code",
            "has_shares",
            "agency_id",
            "fiscal_year",
            "program_id",
            *PHASES,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("budget_agency.id", ondelete="CASCADE"), nullable=False
    )
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_program.id", ondelete="SET NULL"), index=True
    )
    line_key: Mapped[str] = mapped_column(String(120), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    classification_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_classification.id", ondelete="SET NULL")
    )
    request: Mapped[Decimal | None] = mapped_column(Money)
    estimate: Mapped[Decimal | None] = mapped_column(Money)
    enacted: Mapped[Decimal | None] = mapped_column(Money)
    actual: Mapped[Decimal | None] = mapped_column(Money)
    # The coordinating body or instrument that allocated or reviewed this money (e.g. "SIP",
    # "priorities memo"); empty when the ministry set it alone. Feeds the unity-of-powers check.
    steered_by: Mapped[str | None] = mapped_column(String(200))
    # Whether the line is split across fields; the crosscut shows the others as unclassified
    # (a flag rather than NOT IN over the share table: 0.45 s of a 0.5 s crosscut).
    has_shares: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source: Mapped[str | None] = mapped_column(String(200))
    data_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_data_call.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    @classmethod
    def in_bodies(cls, body_ids: list[int]) -> ColumnElement[bool]:
        """SQL: the line belongs to an agency that is one of ``body_ids``."""
        return cls.agency_id.in_(select(Agency.id).where(Agency.body_id.in_(body_ids)))


class BudgetShare(Base):
    """A line's share in one field, with the phase amounts already multiplied by the share."""

    __tablename__ = "budget_share"
    __table_args__ = (
        UniqueConstraint("line_id", "field_id"),
        # Covering index for crosscuts by field: measured on 300,000 share rows, a GROUP BY
        # reading only this index took 0.09 s against 1.1 s through a narrower index.
        Index(
            "ix_budget_share_cube",
            "jurisdiction_code",
            "field_id",
            "agency_id",
            "fiscal_year",
            *PHASES,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(
        ForeignKey("budget_line.id", ondelete="CASCADE"), index=True, nullable=False
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("budget_field.id", ondelete="CASCADE"), nullable=False
    )
    share: Mapped[float] = mapped_column(Float, nullable=False)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), nullable=False)
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    agency_id: Mapped[int] = mapped_column(Integer, nullable=False)
    steered: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    request: Mapped[Decimal | None] = mapped_column(Money)
    estimate: Mapped[Decimal | None] = mapped_column(Money)
    enacted: Mapped[Decimal | None] = mapped_column(Money)
    actual: Mapped[Decimal | None] = mapped_column(Money)

    @classmethod
    def in_bodies(cls, body_ids: list[int]) -> ColumnElement[bool]:
        return cls.agency_id.in_(select(Agency.id).where(Agency.body_id.in_(body_ids)))


class PrioritySet(TimestampMixin, VersionedMixin, Base):
    """Priorities over the fields of a classification, set directly or by AHP, with its memo."""

    __tablename__ = "budget_priority_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    classification_id: Mapped[int] = mapped_column(
        ForeignKey("budget_classification.id", ondelete="CASCADE"), nullable=False
    )
    fiscal_year: Mapped[int] = mapped_column(Integer, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)  # direct | ahp
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    judgements: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    consistency_ratio: Mapped[float | None] = mapped_column(Float)
    memo: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)


class Scenario(TimestampMixin, Base):
    """A saved allocation: its inputs and the optimiser's explained answer."""

    __tablename__ = "budget_scenario"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    priority_set_id: Mapped[int] = mapped_column(
        ForeignKey("budget_priority_set.id", ondelete="CASCADE"), nullable=False
    )
    base_year: Mapped[int] = mapped_column(Integer, nullable=False)
    envelope: Mapped[Decimal] = mapped_column(Money, nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
