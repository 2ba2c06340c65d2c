"""Tables of the portfolio domain.

Funding organisations are the budget domain's :class:`~stcoord.budget.models.Agency` (one row per
jurisdiction and agency code, linked to a mechanism body where one matches), so money in the
crosscut and projects in the portfolio name the same agencies. Programs here are the programs
projects cite (an NSF program element, an NIH institute); projects are keyed by
``(source, external_id)`` so a re-import updates rather than duplicates.

A screen run holds its parameters, status and checkpoint (``chunks_done`` of ``chunks_total``);
its candidate pairs carry the flags the analyst filters on and the latest verdict, whose history
lives in ``portfolio_verdict`` (and in the audit trail).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stcoord.db.base import Base, Money, TimestampMixin, VersionedMixin, utcnow

# GAO's vocabulary (GAO-15-49SP), in the order a reviewer reads it.
VERDICTS = ("duplication", "overlap", "fragmentation", "complementary", "unrelated")
CONFIRMED = ("duplication", "overlap")
RUN_STATUSES = ("queued", "running", "done", "failed")


class PortfolioProgram(Base):
    """A program projects are funded under (e.g. an NSF program element, an NIH institute)."""

    __tablename__ = "portfolio_program"
    __table_args__ = (UniqueConstraint("agency_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("budget_agency.id", ondelete="CASCADE"), index=True, nullable=False
    )
    code: Mapped[str] = mapped_column(String(120), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)


class Project(TimestampMixin, VersionedMixin, Base):
    """A funded award, a proposal under review, or a whole program (inventory objectives)."""

    __tablename__ = "portfolio_project"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80), nullable=False)
    external_id: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="award")
    title: Mapped[str] = mapped_column(Text, nullable=False)
    abstract: Mapped[str] = mapped_column(Text, nullable=False, default="")
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("budget_agency.id", ondelete="CASCADE"), index=True, nullable=False
    )
    program_id: Mapped[int | None] = mapped_column(
        ForeignKey("portfolio_program.id", ondelete="SET NULL"), index=True
    )
    institution: Mapped[str | None] = mapped_column(String(300))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    field_codes: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="en")

    links: Mapped[list[ProjectInvestigator]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )


class Investigator(Base):
    """A person on projects. ``identity_key`` is ``id:<scheme>:<id>`` when the source gives an ID,
    else ``name:<normalised name>|<normalised institution>``."""

    __tablename__ = "portfolio_investigator"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_key: Mapped[str] = mapped_column(String(400), unique=True, nullable=False)
    id_scheme: Mapped[str | None] = mapped_column(String(40))
    person_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    name_key: Mapped[str] = mapped_column(String(300), index=True, nullable=False)
    institution: Mapped[str | None] = mapped_column(String(300))


class ProjectInvestigator(Base):
    __tablename__ = "portfolio_project_investigator"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_project.id", ondelete="CASCADE"), primary_key=True
    )
    investigator_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_investigator.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(80), nullable=False, default="pi")

    project: Mapped[Project] = relationship(back_populates="links")
    investigator: Mapped[Investigator] = relationship()


class ScreenRun(Base):
    """One screen: its parameters, scope, status and checkpoint."""

    __tablename__ = "portfolio_screen_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="portfolio")  # | batch
    representation: Mapped[str] = mapped_column(String(20), nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    chunk_size: Mapped[int] = mapped_column(Integer, nullable=False)
    # {"agencies": [...codes], "sources": [...]}; projects up to max_project_id, in id order
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    max_project_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    project_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    base_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("portfolio_screen_run.id", ondelete="SET NULL")
    )
    batch_source: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="queued")
    chunks_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pair_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ScreenPair(VersionedMixin, Base):
    """A candidate pair of one run, its flags, assignment and latest verdict."""

    __tablename__ = "portfolio_pair"
    __table_args__ = (
        UniqueConstraint("run_id", "left_project_id", "right_project_id"),
        Index("ix_portfolio_pair_run_score", "run_id", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_screen_run.id", ondelete="CASCADE"), nullable=False
    )
    left_project_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_project.id", ondelete="CASCADE"), index=True, nullable=False
    )
    right_project_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_project.id", ondelete="CASCADE"), index=True, nullable=False
    )
    score: Mapped[float] = mapped_column(Float, nullable=False)
    cross_agency: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    time_overlap: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    shared_investigators: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    verdict: Mapped[str | None] = mapped_column(String(20), index=True)
    verdict_comment: Mapped[str | None] = mapped_column(Text)
    verdict_by: Mapped[str | None] = mapped_column(String(80))
    verdict_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    left: Mapped[Project] = relationship(foreign_keys=[left_project_id])
    right: Mapped[Project] = relationship(foreign_keys=[right_project_id])

    @property
    def actor_id(self) -> int | None:
        """For the OWN_RECORDS scope: a reviewer's own pairs are the ones assigned to them."""
        return self.assigned_to_id


class Verdict(Base):
    """Every verdict given on a pair, oldest first (the pair keeps the latest)."""

    __tablename__ = "portfolio_verdict"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(
        ForeignKey("portfolio_pair.id", ondelete="CASCADE"), index=True, nullable=False
    )
    label: Mapped[str] = mapped_column(String(20), nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(80), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class PortfolioSetting(VersionedMixin, Base):
    """A setting the office chooses (e.g. the concurrent-funding threshold)."""

    __tablename__ = "portfolio_setting"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(80), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )
