"""Writing budget lines in bulk: the one path imports and data-call uploads share.

Records arrive validated (see :func:`check_record`); :func:`replace_lines` swaps every line of a
source (an import, or one agency's submission to a data call) for the new ones in the caller's
transaction, with Core bulk inserts, so re-importing a file gives the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from stcoord.budget.models import PHASES, Agency, BudgetLine, BudgetShare, Program

SHARE_TOLERANCE = 1e-6
BATCH = 5000


@dataclass
class LineRecord:
    """One budget line as read from a file, before it has database ids."""

    fiscal_year: int
    agency: str
    line_key: str
    title: str
    currency: str
    amounts: dict[str, Decimal | None]
    program: str | None = None
    shares: dict[int, float] = field(default_factory=dict)  # budget field id -> share (0..1)
    steered_by: str | None = None
    agency_name: str | None = None


def check_record(record: LineRecord) -> list[tuple[str, str]]:
    """Problems of one record as (column, message); empty when it may be written."""
    problems = []
    if not record.line_key:
        problems.append(("line_key", "is required"))
    if not record.agency:
        problems.append(("agency", "is required"))
    for phase in PHASES:
        amount = record.amounts.get(phase)
        if amount is not None and amount < 0:
            problems.append((phase, f"negative amount {amount}"))
    if all(record.amounts.get(p) is None for p in PHASES):
        problems.append(("amounts", "no amount in any phase"))
    if record.shares:
        total = sum(record.shares.values())
        if any(s < 0 for s in record.shares.values()):
            problems.append(("shares", "a share is negative"))
        if abs(total - 1.0) > SHARE_TOLERANCE:
            problems.append(("shares", f"field shares sum to {total:.2%}, not 100%"))
    return problems


def _agency_ids(session: Session, jurisdiction: str, records: list[LineRecord]) -> dict[str, int]:
    wanted = {r.agency: r.agency_name or r.agency for r in records}
    existing = dict(
        session.execute(
            select(Agency.code, Agency.id).where(
                Agency.jurisdiction_code == jurisdiction, Agency.code.in_(list(wanted))
            )
        ).all()
    )
    missing = [
        {"jurisdiction_code": jurisdiction, "code": code, "name": name, "names": {}}
        for code, name in wanted.items()
        if code not in existing
    ]
    if missing:
        session.execute(insert(Agency), missing)
        existing = dict(
            session.execute(
                select(Agency.code, Agency.id).where(
                    Agency.jurisdiction_code == jurisdiction, Agency.code.in_(list(wanted))
                )
            ).all()
        )
    return existing


def _program_ids(
    session: Session, agencies: dict[str, int], records: list[LineRecord]
) -> dict[tuple[int, str], int]:
    wanted = {(agencies[r.agency], r.program) for r in records if r.program}
    agency_ids = sorted({a for a, _ in wanted})
    existing = {
        (a, c): i
        for i, a, c in session.execute(
            select(Program.id, Program.agency_id, Program.code).where(
                Program.agency_id.in_(agency_ids)
            )
        )
    }
    missing = [{"agency_id": a, "code": c, "name": c} for a, c in wanted if (a, c) not in existing]
    if missing:
        session.execute(insert(Program), missing)
        existing = {
            (a, c): i
            for i, a, c in session.execute(
                select(Program.id, Program.agency_id, Program.code).where(
                    Program.agency_id.in_(agency_ids)
                )
            )
        }
    return existing


def _batches(items: list[LineRecord], size: int) -> Iterator[list[LineRecord]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def replace_lines(
    session: Session,
    *,
    jurisdiction: str,
    source: str,
    records: Iterable[LineRecord],
    classification_id: int | None = None,
    data_call_id: int | None = None,
) -> int:
    """Delete every line of ``source`` and insert ``records``; returns the number written."""
    rows = list(records)
    session.execute(
        delete(BudgetLine).where(
            BudgetLine.jurisdiction_code == jurisdiction, BudgetLine.source == source
        )
    )
    if not rows:
        return 0
    agencies = _agency_ids(session, jurisdiction, rows)
    programs = _program_ids(session, agencies, rows)
    for batch in _batches(rows, BATCH):
        values = [
            {
                "jurisdiction_code": jurisdiction,
                "fiscal_year": r.fiscal_year,
                "agency_id": agencies[r.agency],
                "program_id": programs.get((agencies[r.agency], r.program)) if r.program else None,
                "line_key": r.line_key,
                "title": r.title,
                "currency": r.currency,
                "classification_id": classification_id,
                "steered_by": r.steered_by,
                "source": source,
                "data_call_id": data_call_id,
                "version": 1,
                **{p: r.amounts.get(p) for p in PHASES},
            }
            for r in batch
        ]
        ids = session.execute(insert(BudgetLine).returning(BudgetLine.id), values).scalars().all()
        shares = [
            {
                "line_id": line_id,
                "field_id": field_id,
                "share": share,
                "jurisdiction_code": jurisdiction,
                "fiscal_year": r.fiscal_year,
                "agency_id": agencies[r.agency],
                "steered": bool(r.steered_by),
                **{p: _times(r.amounts.get(p), share) for p in PHASES},
            }
            for line_id, r in zip(ids, batch, strict=True)
            for field_id, share in r.shares.items()
        ]
        if shares:
            session.execute(insert(BudgetShare), shares)
    return len(rows)


def _times(amount: Decimal | None, share: float) -> Decimal | None:
    if amount is None:
        return None
    return (amount * Decimal(repr(share))).quantize(Decimal("0.01"))
