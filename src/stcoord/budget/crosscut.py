"""The crosscut: budget amounts by any of agency, field, fiscal year and program, for a phase.

Set-based SQL (one GROUP BY) that gives the same answer on SQLite and PostgreSQL; growth and
shares are derived from the grouped rows. Liaisons see only their own agency's money.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
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
    names = _Names(session, jurisdiction, classification)
    agency_ids = names.agency_ids(agencies)
    field_ids = names.field_ids(fields)
    if "field" in by or fields:
        model: Any = BudgetShare
        stmt = _grouped(BudgetShare, by, phase, jurisdiction)
        stmt = stmt.where(BudgetShare.field_id.in_(field_ids))
    else:
        model = BudgetLine
        stmt = _grouped(BudgetLine, by, phase, jurisdiction)
    stmt = restrict(stmt, actor, "budget.read", model)
    if years:
        stmt = stmt.where(model.fiscal_year.in_(years))
    if agencies is not None:
        stmt = stmt.where(model.agency_id.in_(agency_ids))
    # A group with no amount in this phase (e.g. next year's lines, requested only) is absent,
    # not zero: a zero would read as a 100% cut.
    rows = [
        (names.label(by, ids), amount)
        for *ids, amount in session.execute(stmt).all()
        if amount is not None
    ]
    if "field" in by and not fields:
        rows += _unclassified(
            session,
            actor,
            by,
            phase,
            jurisdiction,
            names,
            years,
            agency_ids if agencies is not None else None,
        )
    rows.sort(key=lambda r: tuple(str(r[0][d]) for d in by))
    return Crosscut(
        jurisdiction,
        tuple(by),
        phase,
        classification,
        _derive(rows, by),
        sum((a for _, a in rows), Decimal(0)),
    )


class _Names:
    """Codes for the ids a GROUP BY returns: grouping by integer ids on one table (no joins)
    is what keeps a crosscut of a million lines under a second."""

    def __init__(self, session: Session, jurisdiction: str, classification: str | None) -> None:
        self.session = session
        self.agencies = dict(
            session.execute(
                select(Agency.id, Agency.code).where(Agency.jurisdiction_code == jurisdiction)
            ).all()
        )
        self.fields: dict[int, str] = {}
        if classification:
            self.fields = dict(
                session.execute(
                    select(BudgetField.id, BudgetField.key)
                    .join(Classification)
                    .where(Classification.key == classification)
                ).all()
            )
            if not self.fields:
                raise ValidationFailed(
                    [("classification", f"unknown classification {classification!r}")]
                )
        self._programs: dict[int, str] | None = None

    def agency_ids(self, codes: list[str] | None) -> list[int]:
        wanted = set(codes or [])
        return [i for i, code in self.agencies.items() if code in wanted]

    def field_ids(self, keys: list[str] | None) -> list[int]:
        if not keys:
            return list(self.fields)
        return [i for i, key in self.fields.items() if key in set(keys)]

    def programs(self) -> dict[int, str]:
        if self._programs is None:
            self._programs = dict(
                self.session.execute(
                    select(Program.id, Program.code).where(
                        Program.agency_id.in_(list(self.agencies))
                    )
                ).all()
            )
        return self._programs

    def label(self, by: list[str], ids: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for dim, value in zip(by, ids, strict=True):
            if dim == "agency":
                out[dim] = self.agencies.get(value, str(value))
            elif dim == "field":
                out[dim] = self.fields.get(value, str(value)) if value is not None else UNCLASSIFIED
            elif dim == "program":
                out[dim] = self.programs().get(value, "") if value is not None else ""
            else:
                out[dim] = value
        return out


def _grouped(model: Any, by: list[str], phase: str, jurisdiction: str) -> Select[Any]:
    columns = []
    joined_line = False
    for dim in by:
        if dim == "agency":
            columns.append(model.agency_id)
        elif dim == "field":
            columns.append(model.field_id)
        elif dim == "year":
            columns.append(model.fiscal_year)
        else:  # program: a share reaches it through its line
            columns.append(BudgetLine.program_id)
            joined_line = model is BudgetShare
    stmt = select(*columns, func.sum(getattr(model, phase))).where(
        model.jurisdiction_code == jurisdiction
    )
    if joined_line:
        stmt = stmt.join(BudgetLine, BudgetLine.id == BudgetShare.line_id)
    # GROUP BY in the covering index's order (field, agency, year) so the database streams the
    # groups off the index instead of sorting them; the select keeps the caller's order.
    order = {"field": 0, "agency": 1, "year": 2, "program": 3}
    grouped = [c for _, c in sorted(zip(by, columns, strict=True), key=lambda p: order[p[0]])]
    return stmt.group_by(*grouped) if grouped else stmt


def _unclassified(
    session: Session,
    actor: Actor,
    by: list[str],
    phase: str,
    jurisdiction: str,
    names: _Names,
    years: list[int] | None,
    agency_ids: list[int] | None,
) -> list[tuple[dict[str, Any], Decimal]]:
    """Money on lines with no field shares, shown as its own field so totals still add up."""
    others = [d for d in by if d != "field"]
    stmt = _grouped(BudgetLine, others, phase, jurisdiction).where(BudgetLine.has_shares.is_(False))
    stmt = restrict(stmt, actor, "budget.read", BudgetLine)
    if years:
        stmt = stmt.where(BudgetLine.fiscal_year.in_(years))
    if agency_ids is not None:
        stmt = stmt.where(BudgetLine.agency_id.in_(agency_ids))
    out = []
    for *ids, amount in session.execute(stmt).all():
        if amount:
            values = names.label(others, ids)
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
