"""The crosscut: budget amounts by any of agency, field, fiscal year and program, for a phase.

Set-based SQL (one GROUP BY) that gives the same answer on SQLite and PostgreSQL; growth and
shares are derived from the grouped rows. Liaisons see only their own agency's money.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor, require, restrict
from stcoord.budget.models import (
    PHASES,
    Agency,
    BudgetField,
    BudgetLine,
    BudgetShare,
    Classification,
    Program,
)
from stcoord.errors import ValidationFailed

DIMENSIONS = ("agency", "field", "year", "program")
UNCLASSIFIED = "(unclassified)"


@dataclass(frozen=True)
class CrosscutRow:
    keys: dict[str, Any]
    amount: Decimal
    share_of_year: float | None  # of the year's total (None without a year dimension)
    growth: float | None  # against the previous year for the same other keys


@dataclass(frozen=True)
class Crosscut:
    jurisdiction: str
    by: tuple[str, ...]
    phase: str
    classification: str | None
    rows: list[CrosscutRow]
    total: Decimal


def _check(by: list[str], phase: str, classification: str | None) -> None:
    problems = []
    for dim in by:
        if dim not in DIMENSIONS:
            problems.append(("by", f"unknown dimension {dim!r}; use {', '.join(DIMENSIONS)}"))
    if len(set(by)) != len(by):
        problems.append(("by", "a dimension is named twice"))
    if phase not in PHASES:
        problems.append(("phase", f"unknown phase {phase!r}; use {', '.join(PHASES)}"))
    if "field" in by and not classification:
        problems.append(("classification", "grouping by field needs a classification"))
    if problems:
        raise ValidationFailed(problems)


def crosscut(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str,
    by: list[str],
    phase: str = "enacted",
    classification: str | None = None,
    years: list[int] | None = None,
    agencies: list[str] | None = None,
    fields: list[str] | None = None,
) -> Crosscut:
    """Sum ``phase`` amounts grouped by ``by`` (agency, field, year, program)."""
    require(actor, "budget.read")
    _check(by, phase, classification)
    if "field" in by or fields:
        stmt = _by_field(by, phase, classification or "", jurisdiction)
        model: Any = BudgetShare
    else:
        stmt = _by_line(by, phase, jurisdiction)
        model = BudgetLine
    stmt = restrict(stmt, actor, "budget.read", model)
    if years:
        stmt = stmt.where(model.fiscal_year.in_(years))
    if agencies:
        stmt = stmt.where(Agency.code.in_(agencies))
    if fields:
        stmt = stmt.where(BudgetField.key.in_(fields))
    # A group with no amount in this phase (e.g. next year's lines, requested only) is absent,
    # not zero: a zero would read as a 100% cut.
    rows = [
        (dict(zip(by, keys, strict=True)), amount)
        for *keys, amount in session.execute(stmt).all()
        if amount is not None
    ]
    if "field" in by and not fields:
        rows += _unclassified(session, actor, by, phase, jurisdiction, years, agencies)
    rows.sort(key=lambda r: tuple(str(r[0][d]) for d in by))
    return Crosscut(
        jurisdiction,
        tuple(by),
        phase,
        classification,
        _derive(rows, by),
        sum((a for _, a in rows), Decimal(0)),
    )


def _dimension_columns(by: list[str], year_column: Any) -> list[ColumnElement[Any]]:
    columns = {
        "agency": Agency.code,
        "field": BudgetField.key,
        "year": year_column,
        "program": func.coalesce(Program.code, literal("")),
    }
    return [columns[d].label(d) for d in by]


def _by_field(by: list[str], phase: str, classification: str, jurisdiction: str) -> Select[Any]:
    amount = func.sum(getattr(BudgetShare, phase))
    stmt = (
        select(*_dimension_columns(by, BudgetShare.fiscal_year), amount)
        .join(BudgetField, BudgetField.id == BudgetShare.field_id)
        .join(Classification, Classification.id == BudgetField.classification_id)
        .join(Agency, Agency.id == BudgetShare.agency_id)
        .where(BudgetShare.jurisdiction_code == jurisdiction, Classification.key == classification)
    )
    if "program" in by:
        stmt = stmt.join(BudgetLine, BudgetLine.id == BudgetShare.line_id).outerjoin(
            Program, Program.id == BudgetLine.program_id
        )
    return stmt.group_by(*[c for c in _dimension_columns(by, BudgetShare.fiscal_year)])


def _by_line(by: list[str], phase: str, jurisdiction: str) -> Select[Any]:
    columns = _dimension_columns(by, BudgetLine.fiscal_year)
    stmt = (
        select(*columns, func.sum(getattr(BudgetLine, phase)))
        .join(Agency, Agency.id == BudgetLine.agency_id)
        .outerjoin(Program, Program.id == BudgetLine.program_id)
        .where(BudgetLine.jurisdiction_code == jurisdiction)
    )
    return stmt.group_by(*columns) if columns else stmt


def _unclassified(
    session: Session,
    actor: Actor,
    by: list[str],
    phase: str,
    jurisdiction: str,
    years: list[int] | None,
    agencies: list[str] | None,
) -> list[tuple[dict[str, Any], Decimal]]:
    """Money on lines with no field shares, shown as its own field so totals still add up."""
    others = [d for d in by if d != "field"]
    columns = _dimension_columns(others, BudgetLine.fiscal_year)
    stmt = (
        select(*columns, func.sum(getattr(BudgetLine, phase)))
        .join(Agency, Agency.id == BudgetLine.agency_id)
        .outerjoin(Program, Program.id == BudgetLine.program_id)
        .where(
            BudgetLine.jurisdiction_code == jurisdiction,
            ~BudgetLine.id.in_(select(BudgetShare.line_id)),
        )
    )
    stmt = restrict(stmt, actor, "budget.read", BudgetLine)
    if years:
        stmt = stmt.where(BudgetLine.fiscal_year.in_(years))
    if agencies:
        stmt = stmt.where(Agency.code.in_(agencies))
    if columns:
        stmt = stmt.group_by(*columns)
    out = []
    for *keys, amount in session.execute(stmt).all():
        if amount:
            values = dict(zip(others, keys, strict=True))
            out.append(({d: values.get(d, UNCLASSIFIED) for d in by}, amount))
    return out


def _derive(rows: list[tuple[dict[str, Any], Decimal]], by: list[str]) -> list[CrosscutRow]:
    if "year" not in by:
        return [CrosscutRow(keys, amount, None, None) for keys, amount in rows]
    year_total: dict[Any, Decimal] = defaultdict(Decimal)
    by_keys: dict[tuple[Any, ...], Decimal] = {}
    for keys, amount in rows:
        year_total[keys["year"]] += amount
        by_keys[(*_rest(keys, by), keys["year"])] = amount
    out = []
    for keys, amount in rows:
        total = year_total[keys["year"]]
        previous = by_keys.get((*_rest(keys, by), keys["year"] - 1))
        growth = float(amount / previous - 1) if previous else None
        out.append(CrosscutRow(keys, amount, float(amount / total) if total else None, growth))
    return out


def _rest(keys: dict[str, Any], by: list[str]) -> tuple[Any, ...]:
    return tuple(keys[d] for d in by if d != "year")
