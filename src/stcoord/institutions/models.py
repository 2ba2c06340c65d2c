"""Tables of the mechanism model: one jurisdiction owns its bodies, fields and procedures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stcoord.db.base import Base, TimestampMixin, VersionedMixin


class SourcedColumns:
    """Where a fact came from, and whether any source confirmed it."""

    sources: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    unverified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


class Jurisdiction(SourcedColumns, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "jurisdiction"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)

    bodies: Mapped[list[Body]] = relationship(
        back_populates="jurisdiction", cascade="all, delete-orphan", order_by="Body.position"
    )
    fields: Mapped[list[StrategicField]] = relationship(
        back_populates="jurisdiction",
        cascade="all, delete-orphan",
        order_by="StrategicField.position",
    )
    relations: Mapped[list[Relation]] = relationship(
        back_populates="jurisdiction", cascade="all, delete-orphan", order_by="Relation.position"
    )
    procedures: Mapped[list[ProcedureTemplate]] = relationship(
        back_populates="jurisdiction",
        cascade="all, delete-orphan",
        order_by="ProcedureTemplate.position",
    )


class StrategicField(SourcedColumns, Base):
    __tablename__ = "strategic_field"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True, nullable=False
    )
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(200))

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="fields")


class Body(SourcedColumns, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "body"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True, nullable=False
    )
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    short_name: Mapped[str | None] = mapped_column(String(80))
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    level: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    legal_basis: Mapped[str | None] = mapped_column(Text)
    established: Mapped[str | None] = mapped_column(String(40))
    abolished: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="bodies")
    parent: Mapped[Body | None] = relationship(remote_side="Body.id")
    seats: Mapped[list[Seat]] = relationship(
        back_populates="body",
        cascade="all, delete-orphan",
        order_by="Seat.position",
        foreign_keys="Seat.body_id",
    )
    composition_rules: Mapped[list[CompositionRule]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="CompositionRule.position"
    )
    mandates: Mapped[list[Mandate]] = relationship(
        back_populates="body", cascade="all, delete-orphan", order_by="Mandate.position"
    )


class Seat(SourcedColumns, Base):
    __tablename__ = "seat"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    role: Mapped[str] = mapped_column(String(40), nullable=False)
    holder_type: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    holder_body_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="SET NULL"), index=True
    )
    appointed_by: Mapped[str | None] = mapped_column(Text)
    confirmation: Mapped[str | None] = mapped_column(Text)
    ex_officio_of: Mapped[str | None] = mapped_column(Text)
    term_years: Mapped[float | None] = mapped_column(Float)
    rotating_among: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)

    body: Mapped[Body] = relationship(back_populates="seats", foreign_keys=[body_id])
    holder_body: Mapped[Body | None] = relationship(foreign_keys=[holder_body_id])


class CompositionRule(SourcedColumns, Base):
    __tablename__ = "composition_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rule: Mapped[str] = mapped_column(String(200), nullable=False)

    body: Mapped[Body] = relationship(back_populates="composition_rules")


class Mandate(SourcedColumns, Base):
    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    affair: Mapped[str] = mapped_column(String(20), nullable=False)
    power: Mapped[str] = mapped_column(String(20), nullable=False)
    # "all" or a list of strategic field keys
    scope: Mapped[Any] = mapped_column(JSON, nullable=False, default="all")
    description: Mapped[str | None] = mapped_column(Text)
    instrument: Mapped[str | None] = mapped_column(Text)
    binding: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    body: Mapped[Body] = relationship(back_populates="mandates")


class Relation(SourcedColumns, Base):
    __tablename__ = "relation"

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True, nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    from_body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )
    to_body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="relations")
    from_body: Mapped[Body] = relationship(foreign_keys=[from_body_id])
    to_body: Mapped[Body] = relationship(foreign_keys=[to_body_id])


class ProcedureTemplate(SourcedColumns, Base):
    __tablename__ = "procedure_template"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id", ondelete="CASCADE"), index=True, nullable=False
    )
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    fields: Mapped[Any] = mapped_column(JSON, nullable=False, default="all")
    legal_basis: Mapped[str | None] = mapped_column(Text)

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="procedures")
    stages: Mapped[list[ProcedureStage]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="ProcedureStage.seq"
    )


class ProcedureStage(SourcedColumns, Base):
    __tablename__ = "procedure_stage"
    __table_args__ = (UniqueConstraint("template_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("procedure_template.id", ondelete="CASCADE"), index=True, nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    names: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    actor_body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), index=True, nullable=False
    )
    participants: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    outputs: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    gate: Mapped[list[Any]] = mapped_column(JSON, default=list, nullable=False)
    planned: Mapped[str | None] = mapped_column(String(40))

    template: Mapped[ProcedureTemplate] = relationship(back_populates="stages")
    actor: Mapped[Body] = relationship()
