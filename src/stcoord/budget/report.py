"""Plain data behind the budget pages and the budget supplement.

Reads through the budget services (the crosscut, unity check, data calls) and a few set-based
queries of its own, every one narrowed to what the actor may read (``budget.read``: a liaison
sees only its own agency). Nothing here writes, renders or translates: the pages and the PDF
supplement are these structures rendered by ``budget/pages.py`` with ``reports/budget_charts.py``
and ``reports/pdf.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor, require, restrict
from stcoord.budget.classifications import get_classification, list_classifications
from stcoord.budget.crosscut import UNCLASSIFIED, Crosscut, CrosscutRow, crosscut
from stcoord.budget.datacalls import get_data_call
from stcoord.budget.models import (
    PHASES,
    Agency,
    BudgetField,
    BudgetLine,
    Classification,
    DataCall,
    Submission,
)
from stcoord.budget.unity import UnityRow, unity_check
from stcoord.errors import NotFound, ValidationFailed

ZERO = Decimal(0)
AnySelect = Select[*tuple[Any, ...]]


# ---------------------------------------------------------------- what there is to look at


@dataclass(frozen=True)
class JurisdictionBudget:
    """The budget lines of one jurisdiction the actor can see, in brief."""

    code: str
    lines: int
    agencies: int
    first_year: int | None
    last_year: int | None
    currency: str | None


def budget_jurisdictions(session: Session, actor: Actor) -> list[JurisdictionBudget]:
    """Jurisdictions with budget lines, with counts (one GROUP BY that the line index covers,
    then one line per jurisdiction for its currency)."""
    require(actor, "budget.read")
    stmt: AnySelect = select(
        BudgetLine.jurisdiction_code,
        func.count(),
        func.count(func.distinct(BudgetLine.agency_id)),
        func.min(BudgetLine.fiscal_year),
        func.max(BudgetLine.fiscal_year),
    ).group_by(BudgetLine.jurisdiction_code)
    stmt = restrict(stmt, actor, "budget.read", BudgetLine)
    return [
        JurisdictionBudget(code, lines, agencies, first, last, currency_of(session, actor, code))
        for code, lines, agencies, first, last in session.execute(
            stmt.order_by(BudgetLine.jurisdiction_code)
        )
    ]


def jurisdiction_codes(session: Session, actor: Actor) -> list[str]:
    """Jurisdictions with agencies the actor can see, those with the most agencies first
    (reads the small agency table, not the lines)."""
    require(actor, "budget.read")
    stmt: AnySelect = (
        select(Agency.jurisdiction_code, func.count())
        .group_by(Agency.jurisdiction_code)
        .order_by(func.count().desc(), Agency.jurisdiction_code)
    )
    return [code for code, _ in session.execute(restrict(stmt, actor, "budget.read", Agency))]


def budget_years(session: Session, actor: Actor, jurisdiction: str) -> list[int]:
    """Fiscal years with lines the actor can see, oldest first."""
    require(actor, "budget.read")
    stmt = (
        select(BudgetLine.fiscal_year)
        .where(BudgetLine.jurisdiction_code == jurisdiction)
        .group_by(BudgetLine.fiscal_year)
        .order_by(BudgetLine.fiscal_year)
    )
    return list(session.scalars(restrict(stmt, actor, "budget.read", BudgetLine)))


def budget_agencies(session: Session, actor: Actor, jurisdiction: str) -> list[Agency]:
    """The jurisdiction's funding agencies the actor can see, by code."""
    require(actor, "budget.read")
    stmt = select(Agency).where(Agency.jurisdiction_code == jurisdiction).order_by(Agency.code)
    return list(session.scalars(restrict(stmt, actor, "budget.read", Agency)))


def classifications_of(
    session: Session, actor: Actor, jurisdiction: str | None = None
) -> list[Classification]:
    """Classifications (of one jurisdiction, if given), newest version first."""
    rows = list_classifications(session, actor)
    if jurisdiction:
        rows = [c for c in rows if c.jurisdiction_code == jurisdiction]
    return sorted(rows, key=lambda c: (-(c.valid_from or 0), c.key))


def default_classification(
    session: Session, actor: Actor, jurisdiction: str, year: int | None = None
) -> Classification | None:
    """The classification in force in ``year`` (else the newest one) of ``jurisdiction``."""
    rows = classifications_of(session, actor, jurisdiction)
    if year is not None:
        for c in rows:
            if (c.valid_from or 0) <= year <= (c.valid_to or 9999):
                return c
    return rows[0] if rows else None


# ---------------------------------------------------------------- data calls


@dataclass(frozen=True)
class DataCallSummary:
    call: DataCall
    classification: str
    agencies: int  # that the actor can see
    submitted: int


def data_calls(session: Session, actor: Actor) -> list[DataCallSummary]:
    """Data calls with how many of the (visible) agencies have submitted, newest year first."""
    require(actor, "budget.read")
    counts: AnySelect = (
        select(
            Submission.data_call_id,
            func.count().label("agencies"),
            func.count(Submission.submitted_at).label("submitted"),
        )
        .join(Agency, Agency.id == Submission.agency_id)
        .group_by(Submission.data_call_id)
    )
    visible = restrict(counts, actor, "budget.read", Agency).subquery()
    stmt = (
        select(DataCall, Classification.key, visible.c.agencies, visible.c.submitted)
        .join(visible, visible.c.data_call_id == DataCall.id)
        .join(Classification, Classification.id == DataCall.classification_id)
        .order_by(DataCall.fiscal_year.desc(), DataCall.key)
    )
    return [DataCallSummary(c, k, n, s) for c, k, n, s in session.execute(stmt)]


def call_agencies(session: Session, actor: Actor, key: str) -> list[Agency]:
    """The agencies a data call asks, those the actor can see, by code."""
    call = get_data_call(session, actor, key)
    stmt = (
        select(Agency)
        .where(Agency.id.in_([s.agency_id for s in call.submissions]))
        .order_by(Agency.code)
    )
    return list(session.scalars(restrict(stmt, actor, "budget.read", Agency)))


def call_agency(session: Session, actor: Actor, key: str, code: str) -> Agency:
    """One agency of a data call (404 when the call does not ask it)."""
    call = get_data_call(session, actor, key)
    agency = session.scalar(
        select(Agency).where(
            Agency.jurisdiction_code == call.jurisdiction_code,
            Agency.code == code,
            Agency.id.in_([s.agency_id for s in call.submissions]),
        )
    )
    if agency is None:
        raise NotFound(f"agency {code!r} is not part of data call {key!r}")
    return agency


# ---------------------------------------------------------------- crosscut helpers


@dataclass(frozen=True)
class Pivot:
    """Amounts of a crosscut laid out as a table: one dimension down, one across."""

    rows: list[Any]
    cols: list[Any]
    cells: dict[tuple[Any, Any], Decimal]
    row_totals: dict[Any, Decimal]
    col_totals: dict[Any, Decimal]
    total: Decimal

    def cell(self, row: Any, col: Any) -> Decimal | None:
        return self.cells.get((row, col))

    def growth(self, row: Any, col: Any, previous: Any) -> float | None:
        """Growth of ``row`` from column ``previous`` to ``col`` (None without a base)."""
        now, before = self.cells.get((row, col)), self.cells.get((row, previous))
        return float(now / before - 1) if now is not None and before else None


def pivot(
    rows: Iterable[CrosscutRow],
    down: str,
    across: str,
    row_order: Sequence[Any] | None = None,
    col_order: Sequence[Any] | None = None,
) -> Pivot:
    """Sum crosscut rows into ``down`` x ``across`` cells (other dimensions summed over).

    Rows and columns follow the given orders (keys not in them come after, sorted);
    ``(unclassified)`` always comes last.
    """
    cells: dict[tuple[Any, Any], Decimal] = {}
    for r in rows:
        key = (r.keys[down], r.keys[across])
        cells[key] = cells.get(key, ZERO) + r.amount
    row_totals: dict[Any, Decimal] = {}
    col_totals: dict[Any, Decimal] = {}
    for (a, b), amount in cells.items():
        row_totals[a] = row_totals.get(a, ZERO) + amount
        col_totals[b] = col_totals.get(b, ZERO) + amount
    return Pivot(
        _ordered(row_totals, row_order),
        _ordered(col_totals, col_order),
        cells,
        row_totals,
        col_totals,
        sum(cells.values(), ZERO),
    )


def _ordered(keys: Iterable[Any], order: Sequence[Any] | None) -> list[Any]:
    present = set(keys)
    first = [k for k in order or [] if k in present]
    rest = sorted((k for k in present if k not in set(first)), key=lambda k: (k == UNCLASSIFIED, k))
    return first + rest


@dataclass(frozen=True)
class PhaseTotals:
    """One agency's money in one year in every phase (request, estimate, enacted, actual)."""

    agency: str
    amounts: dict[str, Decimal | None]


def phase_totals(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str,
    year: int,
    agencies: list[str] | None = None,
) -> list[PhaseTotals]:
    """Request, estimate, enacted and actual per agency for one fiscal year (one GROUP BY)."""
    require(actor, "budget.read")
    stmt = (
        select(Agency.code, *(func.sum(getattr(BudgetLine, p)) for p in PHASES))
        .join(Agency, Agency.id == BudgetLine.agency_id)
        .where(BudgetLine.jurisdiction_code == jurisdiction, BudgetLine.fiscal_year == year)
        .group_by(Agency.code)
        .order_by(Agency.code)
    )
    if agencies:
        stmt = stmt.where(Agency.code.in_(agencies))
    stmt = restrict(stmt, actor, "budget.read", BudgetLine)
    return [
        PhaseTotals(code, dict(zip(PHASES, amounts, strict=True)))
        for code, *amounts in session.execute(stmt)
    ]


# ---------------------------------------------------------------- the explorer's data


@dataclass(frozen=True)
class ExplorerData:
    """What the crosscut explorer and the supplement chart: agency x year always; agency x
    field x year when a classification is chosen; every phase per agency in one year."""

    jurisdiction: str
    phase: str
    classification: Classification | None
    years: list[int]  # the years shown (chosen, else every year with lines)
    all_years: list[int]
    agencies: dict[str, Agency]  # visible agencies by code
    by_agency_year: Crosscut
    cube: Crosscut | None  # agency x field x year, in the years shown or only the latest one
    by_field_year: Crosscut | None  # field x year when the cube has only the latest year
    phase_year: int | None  # the latest year shown
    cube_latest: bool  # the cube holds the latest year only
    phases: list[PhaseTotals]
    currency: str | None

    @property
    def fields(self) -> list[BudgetField]:
        return list(self.classification.fields) if self.classification else []

    @property
    def field_keys(self) -> list[str]:
        return [f.key for f in self.fields]

    def agency_year(self) -> Pivot:
        return pivot(self.by_agency_year.rows, "agency", "year", col_order=self.years)

    def field_year(self) -> Pivot | None:
        if self.by_field_year is not None:
            source = self.by_field_year
        elif self.cube is not None and not self.cube_latest:
            source = self.cube
        else:
            return None
        return pivot(source.rows, "field", "year", self.field_keys, self.years)

    def agency_field(self, year: int | None = None) -> Pivot | None:
        """Agency x field, in one year or summed over the years in the cube."""
        if self.cube is None:
            return None
        rows = [r for r in self.cube.rows if year is None or r.keys["year"] == year]
        return pivot(rows, "agency", "field", col_order=self.field_keys)


def explorer_data(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str,
    phase: str = "enacted",
    classification: str | None = None,
    years: list[int] | None = None,
    agencies: list[str] | None = None,
    cube_years: str = "all",
    field_years: bool = True,
    by_agency_year: Crosscut | None = None,
) -> ExplorerData:
    """The crosscuts behind the explorer's charts and the supplement.

    ``cube_years="latest"`` reads agency x field for the latest year shown only (what the
    treemap and the Sankey draw); then ``field_years`` adds field x year for every year shown.
    ``by_agency_year``: the caller's crosscut by agency and year with the same filters, if it
    has one, so it is not read twice.
    """
    if phase not in PHASES:
        raise ValidationFailed([("phase", f"unknown phase {phase!r}; use {', '.join(PHASES)}")])
    all_years = budget_years(session, actor, jurisdiction)
    shown = sorted(set(years)) if years else all_years
    scheme = get_classification(session, classification) if classification else None
    common: dict[str, Any] = {
        "jurisdiction": jurisdiction,
        "phase": phase,
        "years": shown or None,
        "agencies": agencies or None,
    }
    if by_agency_year is None:
        by_agency_year = crosscut(session, actor, by=["agency", "year"], **common)
    phase_year = max(shown) if shown else None
    cube = by_field_year = None
    latest = cube_years == "latest" and len(shown) > 1 and phase_year is not None
    if scheme is not None:
        cube = crosscut(
            session,
            actor,
            by=["agency", "field", "year"],
            classification=scheme.key,
            **{**common, "years": [phase_year] if latest else common["years"]},
        )
        if latest and field_years:
            by_field_year = crosscut(
                session, actor, by=["field", "year"], classification=scheme.key, **common
            )
    phases = (
        phase_totals(session, actor, jurisdiction=jurisdiction, year=phase_year, agencies=agencies)
        if phase_year is not None
        else []
    )
    visible = {a.code: a for a in budget_agencies(session, actor, jurisdiction)}
    return ExplorerData(
        jurisdiction=jurisdiction,
        phase=phase,
        classification=scheme,
        years=shown,
        all_years=all_years,
        agencies=visible,
        by_agency_year=by_agency_year,
        cube=cube,
        by_field_year=by_field_year,
        phase_year=phase_year,
        cube_latest=latest,
        phases=phases,
        currency=currency_of(session, actor, jurisdiction),
    )


def currency_of(session: Session, actor: Actor, jurisdiction: str) -> str | None:
    """The currency of the jurisdiction's lines (read from one line: a jurisdiction's budget
    is in its own currency)."""
    stmt = select(BudgetLine.currency).where(BudgetLine.jurisdiction_code == jurisdiction)
    return session.scalar(restrict(stmt, actor, "budget.read", BudgetLine).limit(1))


# ---------------------------------------------------------------- the budget supplement


@dataclass(frozen=True)
class Supplement:
    """The budget supplement: the explorer's crosscuts for a set of years, plus the unity of
    administrative and financial power in the latest year."""

    data: ExplorerData
    unity: list[UnityRow] = field(default_factory=list)

    @property
    def latest(self) -> int | None:
        return self.data.phase_year


def supplement_data(
    session: Session,
    actor: Actor,
    *,
    jurisdiction: str,
    classification: str,
    years: list[int] | None = None,
    phase: str = "enacted",
) -> Supplement:
    data = explorer_data(
        session,
        actor,
        jurisdiction=jurisdiction,
        phase=phase,
        classification=classification,
        years=years,
    )
    unity = (
        unity_check(
            session,
            actor,
            jurisdiction=jurisdiction,
            classification=classification,
            fiscal_year=data.phase_year,
            phase=phase,
        )
        if data.phase_year is not None
        else []
    )
    return Supplement(data, unity)
