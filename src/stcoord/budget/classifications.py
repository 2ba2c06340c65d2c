"""Versioned field classifications (``stcoord-classification/1`` files) and mappings between them.

A classification is a set of fields valid for a span of fiscal years (NITRD's program component
areas changed in FY2020 when AI was added). A mapping says how a field of an earlier version
carries into a later one, with a share, so a ten-year trend can be read in one version.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.budget.models import BudgetField, Classification, FieldMapping
from stcoord.errors import NotFound, ValidationFailed
from stcoord.institutions.yaml_locations import (
    FastParseError,
    format_path,
    load_fast,
    load_located,
)
from stcoord.reference import CLASSIFICATIONS_DIR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    key: str = Field(min_length=1, max_length=40)
    name: str
    names: dict[str, str] = Field(default_factory=dict)
    strategic_field: str | None = None


class MappingSpec(_Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_classification: str = Field(alias="from")
    field: str
    to: str
    share: float = Field(default=1.0, gt=0, le=1)


class ClassificationFile(_Strict):
    format: str = "stcoord-classification/1"
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    name: str
    jurisdiction: str
    valid_from: int | None = None
    valid_to: int | None = None
    description: str | None = None
    sources: list[str] = Field(default_factory=list)
    fields: list[FieldSpec] = Field(min_length=1)
    mappings: list[MappingSpec] = Field(default_factory=list)


def parse_classification(text: str, filename: str = "<input>") -> ClassificationFile:
    try:
        data = load_fast(text)
        return ClassificationFile.model_validate(data)
    except (FastParseError, ValidationError):
        doc = load_located(text)
        try:
            return ClassificationFile.model_validate(doc.data)
        except ValidationError as exc:
            raise ValidationFailed(
                [
                    {
                        "path": f"{filename}:{doc.line_of(tuple(e['loc']))}: "
                        f"{format_path(tuple(e['loc']))}",
                        "message": e["msg"],
                    }
                    for e in exc.errors()
                ]
            ) from None


@dataclass(frozen=True)
class ClassificationResult:
    key: str
    created: bool
    fields_added: list[str]


def load_classification(
    session: Session, actor: Actor, spec: ClassificationFile
) -> ClassificationResult:
    """Create or update a classification; fields are matched by key and never deleted (budget
    shares point at them), mappings into it are replaced."""
    require(actor, "budget.manage")
    keys = [f.key for f in spec.fields]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValidationFailed([("fields", f"duplicate field key {k!r}") for k in duplicates])
    row = session.scalar(
        select(Classification)
        .where(Classification.key == spec.key)
        .options(selectinload(Classification.fields))
    )
    created = row is None
    if row is None:
        row = Classification(key=spec.key, name=spec.name, jurisdiction_code=spec.jurisdiction)
        session.add(row)
    row.name, row.jurisdiction_code = spec.name, spec.jurisdiction
    row.valid_from, row.valid_to = spec.valid_from, spec.valid_to
    row.description, row.sources = spec.description, list(spec.sources)
    existing = {f.key: f for f in row.fields}
    added = []
    for seq, f in enumerate(spec.fields):
        field = existing.get(f.key)
        if field is None:
            field = BudgetField(key=f.key)
            row.fields.append(field)
            added.append(f.key)
        field.seq, field.name, field.names = seq, f.name, dict(f.names)
        field.strategic_field = f.strategic_field
    session.flush()
    _replace_mappings(session, row, spec)
    if created or added:
        record_change(
            session,
            actor,
            action="classification.load",
            object_type="classification",
            object_key=spec.key,
            before=None,
            after={"fields_added": added, "created": created},
        )
    return ClassificationResult(spec.key, created, added)


def _replace_mappings(session: Session, target: Classification, spec: ClassificationFile) -> None:
    target_ids = {f.key: f.id for f in target.fields}
    session.execute(delete(FieldMapping).where(FieldMapping.to_field_id.in_(target_ids.values())))
    problems = []
    for i, m in enumerate(spec.mappings):
        source = session.scalar(
            select(BudgetField.id)
            .join(Classification)
            .where(Classification.key == m.from_classification, BudgetField.key == m.field)
        )
        if source is None:
            problems.append((f"mappings[{i}]", f"unknown field {m.from_classification}/{m.field}"))
        elif m.to not in target_ids:
            problems.append((f"mappings[{i}].to", f"unknown field {m.to!r} in {target.key}"))
        else:
            session.add(
                FieldMapping(from_field_id=source, to_field_id=target_ids[m.to], share=m.share)
            )
    if problems:
        raise ValidationFailed(problems)


def get_classification(session: Session, key: str) -> Classification:
    row = session.scalar(
        select(Classification)
        .where(Classification.key == key)
        .options(selectinload(Classification.fields))
    )
    if row is None:
        raise NotFound(f"no classification {key!r}")
    return row


def list_classifications(session: Session, actor: Actor) -> list[Classification]:
    require(actor, "budget.read")
    return list(
        session.scalars(
            select(Classification)
            .order_by(Classification.key)
            .options(selectinload(Classification.fields))
        ).all()
    )


def seed_classifications(session: Session, actor: Actor) -> list[ClassificationResult]:
    """Load the shipped classifications in an order where mapped-from versions come first."""
    specs = [
        parse_classification(p.read_text(encoding="utf-8"), p.name)
        for p in sorted(CLASSIFICATIONS_DIR.glob("*.yaml"))
    ]
    ordered = sorted(specs, key=lambda s: (len(s.mappings) > 0, s.valid_from or 0, s.key))
    return [load_classification(session, actor, spec) for spec in ordered]
