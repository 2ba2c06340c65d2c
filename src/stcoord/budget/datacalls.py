"""Data calls: the office asks each agency for its R&D budget lines for a fiscal year.

Each agency downloads a template (CSV or XLSX) with one share column per field of the call's
classification, fills it and uploads it. Every row is checked and every problem reported with
its row and column; only a clean file replaces the agency's lines for the call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, permits, require
from stcoord.budget.classifications import get_classification
from stcoord.budget.lines import LineRecord, check_record, replace_lines
from stcoord.budget.models import (
    PHASES,
    Agency,
    BudgetField,
    BudgetLine,
    DataCall,
    Program,
    Submission,
)
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.tabular import Row, text_cell

BASE_COLUMNS = ["line_key", "title", "program", *PHASES, "steered_by"]
SHARE_PREFIX = "share:"
MAX_LISTED = 1000


def open_data_call(
    session: Session,
    actor: Actor,
    *,
    key: str,
    jurisdiction: str,
    fiscal_year: int,
    classification: str,
    title: str,
    currency: str,
    agencies: list[str],
    due: dt.date | None = None,
) -> DataCall:
    require(actor, "budget.manage")
    if session.scalar(select(DataCall.id).where(DataCall.key == key)) is not None:
        raise Conflict(f"a data call {key!r} already exists")
    scheme = get_classification(session, classification)
    found = dict(
        session.execute(
            select(Agency.code, Agency.id).where(
                Agency.jurisdiction_code == jurisdiction, Agency.code.in_(agencies)
            )
        ).all()
    )
    unknown = [a for a in agencies if a not in found]
    if unknown or not agencies:
        raise ValidationFailed(
            [("agencies", f"unknown agency {a!r}") for a in unknown]
            or [("agencies", "name at least one agency")]
        )
    call = DataCall(
        key=key,
        jurisdiction_code=jurisdiction,
        fiscal_year=fiscal_year,
        classification_id=scheme.id,
        title=title,
        currency=currency,
        due=due,
        submissions=[Submission(agency_id=found[a]) for a in agencies],
    )
    session.add(call)
    session.flush()
    record_change(
        session,
        actor,
        action="datacall.open",
        object_type="data_call",
        object_key=key,
        before=None,
        after={"fiscal_year": fiscal_year, "agencies": agencies, "title": title},
    )
    return call


def get_data_call(session: Session, actor: Actor, key: str) -> DataCall:
    require(actor, "budget.read")
    call = session.scalar(
        select(DataCall).where(DataCall.key == key).options(selectinload(DataCall.submissions))
    )
    if call is None:
        raise NotFound(f"no data call {key!r}")
    return call


@dataclass(frozen=True)
class SubmissionStatus:
    agency: str
    agency_name: str
    status: str
    submitted_at: dt.datetime | None
    submitted_by: str | None
    line_count: int
    total_request: Decimal | None


def submission_status(session: Session, actor: Actor, key: str) -> list[SubmissionStatus]:
    """Who has submitted (the office sees every agency; a liaison sees its own)."""
    call = get_data_call(session, actor, key)
    totals = dict(
        session.execute(
            select(BudgetLine.agency_id, func.sum(BudgetLine.request))
            .where(BudgetLine.data_call_id == call.id)
            .group_by(BudgetLine.agency_id)
        ).all()
    )
    agencies = {
        a.id: a
        for a in session.scalars(
            select(Agency).where(Agency.id.in_([s.agency_id for s in call.submissions]))
        )
    }
    rows = []
    for s in sorted(call.submissions, key=lambda s: agencies[s.agency_id].code):
        agency = agencies[s.agency_id]
        if not _may_see(actor, agency):
            continue
        rows.append(
            SubmissionStatus(
                agency.code,
                agency.name,
                s.status,
                s.submitted_at,
                s.submitted_by,
                s.line_count,
                totals.get(agency.id),
            )
        )
    return rows


def _may_see(actor: Actor, agency: Agency) -> bool:
    return permits(actor, "budget.read", agency)


def template(
    session: Session, actor: Actor, key: str, agency_code: str
) -> tuple[list[str], list[list[Any]]]:
    """The agency's template: one row per line it had the year before, shares to fill."""
    call = get_data_call(session, actor, key)
    agency = _agency(session, call, agency_code)
    require(actor, "budget.read", agency)
    fields = _field_keys(session, call)
    headers = BASE_COLUMNS + [SHARE_PREFIX + f for f in fields]
    previous = session.execute(
        select(BudgetLine.line_key, BudgetLine.title, Program.code)
        .outerjoin(Program, Program.id == BudgetLine.program_id)
        .where(BudgetLine.agency_id == agency.id, BudgetLine.fiscal_year == call.fiscal_year - 1)
        .order_by(BudgetLine.line_key)
    ).all()
    rows = [[k, t, p or "", "", "", "", "", ""] + [""] * len(fields) for k, t, p in previous]
    return headers, rows


def _field_keys(session: Session, call: DataCall) -> list[str]:
    return list(
        session.scalars(
            select(BudgetField.key)
            .where(BudgetField.classification_id == call.classification_id)
            .order_by(BudgetField.seq)
        )
    )


def _agency(session: Session, call: DataCall, code: str) -> Agency:
    agency = session.scalar(
        select(Agency).where(
            Agency.jurisdiction_code == call.jurisdiction_code, Agency.code == code
        )
    )
    if agency is None or agency.id not in {s.agency_id for s in call.submissions}:
        raise NotFound(f"agency {code!r} is not part of data call {call.key!r}")
    return agency


@dataclass(frozen=True)
class UploadResult:
    agency: str
    lines: int
    total_request: Decimal


def upload(
    session: Session,
    actor: Actor,
    *,
    key: str,
    agency_code: str,
    headers: list[str],
    rows: list[Row],
    stated_total: Decimal | None = None,
) -> UploadResult:
    """Check every row of an agency's filled template; write all of it or nothing."""
    call = get_data_call(session, actor, key)
    agency = _agency(session, call, agency_code)
    require(actor, "budget.submit", agency)
    if call.status != "open":
        raise ValidationFailed([("data_call", f"data call {key!r} is closed")])
    field_ids = _field_ids(session, call)
    problems: list[dict[str, Any]] = []
    _check_headers(headers, field_ids, problems)
    records = [] if problems else _records(rows, call, agency_code, field_ids, problems)
    total = sum((r.amounts.get("request") or Decimal(0) for r in records), Decimal(0))
    if stated_total is not None and not problems and total != stated_total:
        problems.append(
            _problem(0, "request", f"lines total {total} but the agency states {stated_total}")
        )
    if problems:
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append(_problem(0, "", f"... and {len(problems) - MAX_LISTED} more problems"))
        raise ValidationFailed(listed)
    replace_lines(
        session,
        jurisdiction=call.jurisdiction_code,
        source=f"datacall:{key}:{agency_code}",
        records=records,
        classification_id=call.classification_id,
        data_call_id=call.id,
    )
    submission = next(s for s in call.submissions if s.agency_id == agency.id)
    before = {"status": submission.status, "line_count": submission.line_count}
    submission.status, submission.line_count = "submitted", len(records)
    submission.submitted_at, submission.submitted_by = dt.datetime.now(dt.UTC), actor.username
    submission.stated_total = stated_total
    record_change(
        session,
        actor,
        action="datacall.upload",
        object_type="data_call",
        object_key=f"{key}/{agency_code}",
        before=before,
        after={"status": "submitted", "line_count": len(records), "total_request": str(total)},
    )
    return UploadResult(agency_code, len(records), total)


def _field_ids(session: Session, call: DataCall) -> dict[str, int]:
    return dict(
        session.execute(
            select(BudgetField.key, BudgetField.id).where(
                BudgetField.classification_id == call.classification_id
            )
        ).all()
    )


def _problem(row: int, column: str, message: str) -> dict[str, Any]:
    return {
        "row": row,
        "column": column,
        "path": f"row {row}, {column}" if row else column,
        "message": message,
    }


def _check_headers(
    headers: list[str], field_ids: dict[str, int], problems: list[dict[str, Any]]
) -> None:
    for column in ("line_key", "title"):
        if column not in headers:
            problems.append(_problem(1, column, "column missing"))
    for h in headers:
        if h.startswith(SHARE_PREFIX) and h[len(SHARE_PREFIX) :] not in field_ids:
            problems.append(_problem(1, h, f"unknown field code {h[len(SHARE_PREFIX) :]!r}"))
        elif not h.startswith(SHARE_PREFIX) and h and h not in BASE_COLUMNS:
            problems.append(_problem(1, h, "unknown column"))


def _money(value: Any) -> Decimal | None:
    text = text_cell(value).replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None


def _records(
    rows: list[Row],
    call: DataCall,
    agency: str,
    field_ids: dict[str, int],
    problems: list[dict[str, Any]],
) -> list[LineRecord]:
    records: list[LineRecord] = []
    seen: dict[str, int] = {}
    for row in rows:
        amounts: dict[str, Decimal | None] = {}
        for phase in PHASES:
            try:
                amounts[phase] = _money(row.values.get(phase))
            except ValueError as exc:
                problems.append(_problem(row.number, phase, str(exc)))
        shares: dict[int, float] = {}
        for column, value in row.values.items():
            if column.startswith(SHARE_PREFIX) and text_cell(value):
                try:
                    share = float(text_cell(value).rstrip("%")) / 100
                except ValueError:
                    problems.append(_problem(row.number, column, f"not a percentage: {value!r}"))
                    continue
                if share:
                    shares[field_ids[column[len(SHARE_PREFIX) :]]] = share
        record = LineRecord(
            fiscal_year=call.fiscal_year,
            agency=agency,
            line_key=text_cell(row.values.get("line_key")),
            title=text_cell(row.values.get("title")),
            currency=call.currency,
            amounts=amounts,
            program=text_cell(row.values.get("program")) or None,
            shares=shares,
            steered_by=text_cell(row.values.get("steered_by")) or None,
        )
        for column, message in check_record(record):
            problems.append(_problem(row.number, column, message))
        if record.line_key in seen:
            problems.append(
                _problem(row.number, "line_key", f"duplicate of row {seen[record.line_key]}")
            )
        seen.setdefault(record.line_key, row.number)
        records.append(record)
    return records
