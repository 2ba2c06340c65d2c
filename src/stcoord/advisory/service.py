"""Use cases of advisory reports: file a report, add or import its numbered recommendations,
record the government's response, link recommendations to plan tasks, track them to closure,
and measure each body's adoption rate.

Advisors write the reports of the bodies they sit on (``advisory.write``, scoped to their
bodies); the central office records responses, statuses and task links (``advisory.respond``);
reports are public (``advisory.read``). Services never commit; every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from stcoord.advisory.models import (
    POSITIONS,
    STATUSES,
    AdvisoryReport,
    Recommendation,
    Response,
    StatusChange,
    TaskLink,
)
from stcoord.analytics.adoption import BodyAdoption, Outcome, adoption_by_body
from stcoord.audit.service import changed_fields, record_change
from stcoord.auth.permissions import Actor, require, restrict
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction, Mandate
from stcoord.plans.models import Plan, Task
from stcoord.tabular import Row, TableError, read_table, text_cell

READ, WRITE, RESPOND = "advisory.read", "advisory.write", "advisory.respond"
IMPORT_COLUMNS = ("number", "text", "addressed_to")


# ---------------------------------------------------------------- bodies


def _is_advisory(session: Session, body: Body) -> bool:
    if body.level == "advisory":
        return True
    return (
        session.scalar(
            select(Mandate.id).where(Mandate.body_id == body.id, Mandate.power == "advise")
        )
        is not None
    )


def find_body(session: Session, code: str, key: str, path: str = "body") -> Body:
    """The body ``key`` of jurisdiction ``code``, or a validation error at ``path``."""
    body = session.scalar(
        select(Body)
        .join(Jurisdiction)
        .where(Jurisdiction.code == code.strip().upper(), Body.key == key.strip())
    )
    if body is None:
        raise ValidationFailed([(path, f"unknown body {code}:{key}")])
    return body


def advisory_bodies(session: Session, actor: Actor, code: str | None = None) -> list[Body]:
    """Bodies that may file advisory reports: level ``advisory`` or holding an advise mandate."""
    require(actor, READ)
    advising = select(Mandate.body_id).where(Mandate.power == "advise")
    stmt = (
        select(Body)
        .join(Jurisdiction)
        .where((Body.level == "advisory") | Body.id.in_(advising))
        .options(selectinload(Body.jurisdiction))
        .order_by(Jurisdiction.code, Body.position)
    )
    if code:
        stmt = stmt.where(Jurisdiction.code == code.upper())
    return list(session.scalars(stmt))


def writable_bodies(session: Session, actor: Actor) -> list[Body]:
    """The advisory bodies ``actor`` may file reports for."""
    from stcoord.auth.permissions import permits

    return [b for b in advisory_bodies(session, actor) if permits(actor, WRITE, b)]


# ---------------------------------------------------------------- reports


def report_snapshot(report: AdvisoryReport) -> dict[str, Any]:
    return {
        "body": f"{report.jurisdiction_code}:{report.body_key}",
        "title": report.title,
        "names": dict(report.names or {}),
        "published_on": report.published_on.isoformat() if report.published_on else None,
        "url": report.url,
        "source": report.source,
        "summary": report.summary,
        "unverified": report.unverified,
        "version": report.version,
    }


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    key: str,
    before: Any,
    after: Any,
) -> None:
    record_change(
        session,
        actor,
        action=action,
        object_type=object_type,
        object_key=key,
        before=before,
        after=after,
    )


def file_report(
    session: Session,
    actor: Actor,
    *,
    code: str,
    body: str,
    key: str,
    title: str,
    published_on: dt.date | None = None,
    url: str | None = None,
    source: str | None = None,
    summary: str | None = None,
    names: dict[str, str] | None = None,
    unverified: bool = False,
) -> AdvisoryReport:
    """File a report of an advisory body (its advisors, or the office)."""
    require(actor, WRITE)
    problems: list[tuple[str, str]] = []
    key = key.strip()
    if not key or "/" in key or len(key) > 80:
        problems.append(("key", "must be 1-80 characters without '/'"))
    if not title.strip():
        problems.append(("title", "must not be empty"))
    if problems:
        raise ValidationFailed(problems)
    row = find_body(session, code, body)
    if not _is_advisory(session, row):
        raise ValidationFailed([("body", f"{code}:{body} is not an advisory body")])
    require(actor, WRITE, row)
    if session.scalar(select(AdvisoryReport.id).where(AdvisoryReport.key == key)) is not None:
        raise Conflict(f"an advisory report with key {key!r} already exists")
    report = AdvisoryReport(
        key=key,
        jurisdiction_code=code.strip().upper(),
        body_key=row.key,
        body_id=row.id,
        title=title.strip(),
        names=names or {},
        published_on=published_on,
        url=url or None,
        source=source or None,
        summary=summary or None,
        unverified=unverified,
        created_by=actor.username,
    )
    session.add(report)
    session.flush()
    _audit(
        session,
        actor,
        "advisory.report.create",
        "advisory_report",
        key,
        None,
        report_snapshot(report),
    )
    return report


def get_report(session: Session, actor: Actor, key: str) -> AdvisoryReport:
    stmt = restrict(select(AdvisoryReport), actor, READ, AdvisoryReport).where(
        AdvisoryReport.key == key
    )
    report = session.scalar(
        stmt.options(
            selectinload(AdvisoryReport.recommendations).selectinload(Recommendation.responses),
            selectinload(AdvisoryReport.recommendations).selectinload(Recommendation.links),
        )
    )
    if report is None:
        require(actor, READ)
        raise NotFound(f"no advisory report {key!r}")
    return report


def list_reports(
    session: Session, actor: Actor, *, body: str | None = None, jurisdiction: str | None = None
) -> list[AdvisoryReport]:
    """Reports, newest first, optionally of one body (``CODE:key``) or jurisdiction."""
    require(actor, READ)
    stmt = restrict(select(AdvisoryReport), actor, READ, AdvisoryReport)
    stmt = _body_filter(stmt, AdvisoryReport, body, jurisdiction)
    stmt = stmt.options(selectinload(AdvisoryReport.recommendations)).order_by(
        AdvisoryReport.published_on.desc(), AdvisoryReport.key
    )
    return list(session.scalars(stmt))


def _body_filter(stmt: Select[Any], model: Any, body: str | None, jurisdiction: str | None) -> Any:
    if jurisdiction:
        stmt = stmt.where(model.jurisdiction_code == jurisdiction.strip().upper())
    if body:
        code, sep, key = body.partition(":")
        if not sep or not code or not key:
            raise ValidationFailed([("body", "use CODE:key, e.g. US:pcast")])
        stmt = stmt.where(
            model.jurisdiction_code == code.strip().upper(), model.body_key == key.strip()
        )
    return stmt


REPORT_EDITABLE = ("title", "names", "published_on", "url", "source", "summary", "unverified")


def update_report(
    session: Session,
    actor: Actor,
    *,
    key: str,
    expected_version: int,
    changes: dict[str, Any],
) -> AdvisoryReport:
    """Edit a report's facts; a stale ``expected_version`` is a :class:`Conflict`."""
    report = get_report(session, actor, key)
    require(actor, WRITE, report)
    unknown = sorted(set(changes) - set(REPORT_EDITABLE))
    if unknown:
        raise ValidationFailed([(k, "this field cannot be edited here") for k in unknown])
    if "title" in changes and not str(changes["title"] or "").strip():
        raise ValidationFailed([("title", "must not be empty")])
    if report.version != expected_version:
        raise Conflict(
            f"report {key!r} was changed by someone else (version {report.version})",
            current=report_snapshot(report),
        )
    before = report_snapshot(report)
    for name, value in changes.items():
        setattr(report, name, value)
    report.version += 1
    session.flush()
    old, new = changed_fields(before, report_snapshot(report))
    _audit(session, actor, "advisory.report.update", "advisory_report", key, old, new)
    return report


# ---------------------------------------------------------------- recommendations


def recommendation_snapshot(rec: Recommendation) -> dict[str, Any]:
    return {
        "number": rec.number,
        "text": rec.text,
        "addressed_to": list(rec.addressed_to or []),
        "status": rec.status,
        "status_on": rec.status_on.isoformat() if rec.status_on else None,
        "benefit": rec.benefit,
        "benefit_amount": str(rec.benefit_amount) if rec.benefit_amount is not None else None,
        "benefit_currency": rec.benefit_currency,
        "evidence": rec.evidence,
        "position": rec.position,
        "version": rec.version,
    }


def _check_addressed(
    session: Session, code: str, keys: Iterable[str], path: str
) -> tuple[list[str], list[tuple[str, str]]]:
    keys = [k.strip() for k in keys if k and k.strip()]
    known = set(
        session.scalars(
            select(Body.key).join(Jurisdiction).where(Jurisdiction.code == code, Body.key.in_(keys))
        )
    )
    problems = [(path, f"unknown body {code}:{k}") for k in keys if k not in known]
    return list(dict.fromkeys(keys)), problems


def _check_number(number: str, path: str = "number") -> list[tuple[str, str]]:
    if not number or "/" in number or len(number) > 20:
        return [(path, "must be 1-20 characters without '/'")]
    return []


def add_recommendation(
    session: Session,
    actor: Actor,
    *,
    report_key: str,
    number: str,
    text: str,
    addressed_to: list[str] | None = None,
) -> Recommendation:
    report = get_report(session, actor, report_key)
    require(actor, WRITE, report)
    number = number.strip()
    problems = _check_number(number)
    if not text.strip():
        problems.append(("text", "must not be empty"))
    bodies, bad = _check_addressed(
        session, report.jurisdiction_code, addressed_to or [], "addressed_to"
    )
    problems += bad
    if problems:
        raise ValidationFailed(problems)
    if any(r.number == number for r in report.recommendations):
        raise Conflict(f"report {report_key!r} already has recommendation {number!r}")
    rec = Recommendation(
        report=report,
        number=number,
        seq=len(report.recommendations) + 1,
        text=text.strip(),
        addressed_to=bodies,
    )
    session.add(rec)
    session.flush()
    _audit(
        session,
        actor,
        "advisory.recommendation.create",
        "advisory_recommendation",
        f"{report_key}/{number}",
        None,
        recommendation_snapshot(rec),
    )
    return rec


def get_recommendation(
    session: Session, actor: Actor, report_key: str, number: str
) -> Recommendation:
    stmt = (
        restrict(select(Recommendation), actor, READ, Recommendation)
        .join(AdvisoryReport)
        .where(AdvisoryReport.key == report_key, Recommendation.number == number)
        .options(
            selectinload(Recommendation.report),
            selectinload(Recommendation.responses),
            selectinload(Recommendation.links),
            selectinload(Recommendation.history),
        )
    )
    rec = session.scalar(stmt)
    if rec is None:
        require(actor, READ)
        raise NotFound(f"advisory report {report_key!r} has no recommendation {number!r}")
    return rec


def _check_version(rec: Recommendation, expected_version: int | None) -> None:
    if expected_version is not None and rec.version != expected_version:
        raise Conflict(
            f"recommendation {rec.report.key}/{rec.number} was changed by someone else "
            f"(version {rec.version})",
            current=recommendation_snapshot(rec),
        )


def update_recommendation(
    session: Session,
    actor: Actor,
    *,
    report_key: str,
    number: str,
    expected_version: int,
    text: str | None = None,
    addressed_to: list[str] | None = None,
) -> Recommendation:
    """The advisers' wording of a recommendation and the bodies it is addressed to."""
    rec = get_recommendation(session, actor, report_key, number)
    require(actor, WRITE, rec)
    problems: list[tuple[str, str]] = []
    if text is not None and not text.strip():
        problems.append(("text", "must not be empty"))
    bodies: list[str] | None = None
    if addressed_to is not None:
        bodies, bad = _check_addressed(
            session, rec.report.jurisdiction_code, addressed_to, "addressed_to"
        )
        problems += bad
    if problems:
        raise ValidationFailed(problems)
    _check_version(rec, expected_version)
    before = recommendation_snapshot(rec)
    if text is not None:
        rec.text = text.strip()
    if bodies is not None:
        rec.addressed_to = bodies
    rec.version += 1
    session.flush()
    old, new = changed_fields(before, recommendation_snapshot(rec))
    _audit(
        session,
        actor,
        "advisory.recommendation.update",
        "advisory_recommendation",
        f"{report_key}/{number}",
        old,
        new,
    )
    return rec


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def import_recommendations(
    session: Session, actor: Actor, *, report_key: str, data: bytes, filename: str
) -> ImportResult:
    """Add or update a report's recommendations from a CSV/XLSX table.

    Columns ``number``, ``text`` and optionally ``addressed_to`` (body keys separated by ``;``).
    Every row is checked first; any problem (with its row and column) refuses the whole file.
    Importing the same file twice changes nothing the second time.
    """
    report = get_report(session, actor, report_key)
    require(actor, WRITE, report)
    try:
        headers, rows = read_table(data, filename)
    except TableError as exc:
        raise ValidationFailed([{"path": filename, "message": str(exc)}]) from None
    missing = [c for c in ("number", "text") if c not in headers]
    if missing:
        raise ValidationFailed(
            [
                {"path": f"{filename}:1", "row": 1, "column": c, "message": "missing column"}
                for c in missing
            ]
        )
    unknown = [h for h in headers if h and h not in IMPORT_COLUMNS]
    problems: list[dict[str, Any]] = [
        {"path": f"{filename}:1", "row": 1, "column": h, "message": "unknown column"}
        for h in unknown
    ]
    parsed: list[tuple[Row, str, str, list[str]]] = []
    seen: dict[str, int] = {}

    def problem(row: Row, column: str, message: str) -> None:
        problems.append(
            {
                "path": f"{filename}:{row.number}",
                "row": row.number,
                "column": column,
                "message": message,
            }
        )

    for row in rows:
        number = text_cell(row.values.get("number"))
        if number.endswith(".0") and number[:-2].isdigit():  # a spreadsheet's 3 -> 3.0
            number = number[:-2]
        text = text_cell(row.values.get("text"))
        for _, message in _check_number(number):
            problem(row, "number", message)
        if number in seen:
            problem(row, "number", f"duplicate of row {seen[number]}")
        seen.setdefault(number, row.number)
        if not text:
            problem(row, "text", "must not be empty")
        keys = [k for k in text_cell(row.values.get("addressed_to")).split(";") if k.strip()]
        bodies, bad = _check_addressed(session, report.jurisdiction_code, keys, "addressed_to")
        for _, message in bad:
            problem(row, "addressed_to", message)
        parsed.append((row, number, text, bodies))
    if not rows:
        problems.append({"path": filename, "row": None, "column": None, "message": "no rows"})
    if problems:
        raise ValidationFailed(problems)
    existing = {r.number: r for r in report.recommendations}
    result = ImportResult()
    seq = len(report.recommendations)
    for _row, number, text, bodies in parsed:
        rec = existing.get(number)
        if rec is None:
            seq += 1
            rec = Recommendation(
                report=report, number=number, seq=seq, text=text, addressed_to=bodies
            )
            session.add(rec)
            session.flush()
            _audit(
                session,
                actor,
                "advisory.recommendation.create",
                "advisory_recommendation",
                f"{report_key}/{number}",
                None,
                recommendation_snapshot(rec),
            )
            result.created.append(number)
        elif rec.text == text and list(rec.addressed_to or []) == bodies:
            result.unchanged.append(number)
        else:
            before = recommendation_snapshot(rec)
            rec.text, rec.addressed_to = text, bodies
            rec.version += 1
            old, new = changed_fields(before, recommendation_snapshot(rec))
            _audit(
                session,
                actor,
                "advisory.recommendation.update",
                "advisory_recommendation",
                f"{report_key}/{number}",
                old,
                new,
            )
            result.updated.append(number)
    session.flush()
    return result


# ---------------------------------------------------------------- the office's side


def respond(
    session: Session,
    actor: Actor,
    *,
    report_key: str,
    number: str,
    position: str,
    text: str,
    on_date: dt.date,
    responding_body: str | None = None,
    expected_version: int | None = None,
) -> Response:
    """Record the government's response; the latest response is the current position."""
    rec = get_recommendation(session, actor, report_key, number)
    require(actor, RESPOND, rec)
    problems: list[tuple[str, str]] = []
    if position not in POSITIONS:
        problems.append(("position", f"use one of {', '.join(POSITIONS)}"))
    if not text.strip():
        problems.append(("text", "must not be empty"))
    body = None
    if responding_body:
        code = rec.report.jurisdiction_code
        try:
            body = find_body(session, code, responding_body, "responding_body")
        except ValidationFailed as exc:
            problems += [(d["path"], d["message"]) for d in exc.details]
    if problems:
        raise ValidationFailed(problems)
    _check_version(rec, expected_version)
    before = rec.position
    response = Response(
        recommendation=rec,
        position=position,
        text=text.strip(),
        responding_body_key=body.key if body else None,
        responding_body_id=body.id if body else None,
        on_date=on_date,
        recorded_by=actor.username,
    )
    session.add(response)
    rec.version += 1
    session.flush()
    _audit(
        session,
        actor,
        "advisory.response",
        "advisory_recommendation",
        f"{report_key}/{number}",
        {"position": before},
        {
            "position": position,
            "text": response.text,
            "responding_body": response.responding_body_key,
            "on_date": on_date.isoformat(),
        },
    )
    return response


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed([("benefit_amount", f"not a number: {value!r}")]) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed([("benefit_amount", "must be a non-negative number")])
    return amount


def set_status(
    session: Session,
    actor: Actor,
    *,
    report_key: str,
    number: str,
    status: str,
    on_date: dt.date,
    benefit: str | None = None,
    benefit_amount: Any = None,
    benefit_currency: str | None = None,
    evidence: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> StatusChange:
    """Move a recommendation towards closure, with the benefit claimed and its evidence.

    Closing one (``fully_addressed``) needs evidence; a benefit amount needs a currency.
    """
    rec = get_recommendation(session, actor, report_key, number)
    require(actor, RESPOND, rec)
    problems: list[tuple[str, str]] = []
    if status not in STATUSES:
        problems.append(("status", f"use one of {', '.join(STATUSES)}"))
    amount = _amount(benefit_amount)
    currency = (benefit_currency or "").strip().upper() or None
    if amount is not None and (currency is None or len(currency) != 3):
        problems.append(("benefit_currency", "give a 3-letter currency code with an amount"))
    evidence = (evidence or "").strip() or None
    if status == "fully_addressed" and not (evidence or rec.evidence):
        problems.append(("evidence", "say what shows the recommendation is fully addressed"))
    if rec.status_on and on_date < rec.status_on:
        problems.append(("on_date", f"before the last status change ({rec.status_on})"))
    if problems:
        raise ValidationFailed(problems)
    _check_version(rec, expected_version)
    before = recommendation_snapshot(rec)
    change = StatusChange(
        recommendation=rec,
        from_status=rec.status,
        to_status=status,
        on_date=on_date,
        benefit=(benefit or "").strip() or None,
        benefit_amount=amount,
        benefit_currency=currency if amount is not None else None,
        evidence=evidence,
        note=(note or "").strip() or None,
        recorded_by=actor.username,
    )
    session.add(change)
    rec.status, rec.status_on = status, on_date
    if change.benefit is not None:
        rec.benefit = change.benefit
    if amount is not None:
        rec.benefit_amount, rec.benefit_currency = amount, currency
    if evidence is not None:
        rec.evidence = evidence
    rec.version += 1
    session.flush()
    old, new = changed_fields(before, recommendation_snapshot(rec))
    _audit(
        session,
        actor,
        "advisory.status",
        "advisory_recommendation",
        f"{report_key}/{number}",
        old,
        new,
    )
    return change


def _task(session: Session, plan_key: str, task_code: str) -> Task:
    task = session.scalar(
        select(Task)
        .join(Plan, Plan.id == Task.plan_id)
        .where(Plan.key == plan_key, Task.code == task_code)
    )
    if task is None:
        raise ValidationFailed([("task", f"plan {plan_key!r} has no task {task_code!r}")])
    return task


def link_task(
    session: Session,
    actor: Actor,
    *,
    report_key: str,
    number: str,
    plan_key: str,
    task_code: str,
    expected_version: int | None = None,
) -> TaskLink:
    """Link a recommendation to the plan task that carries it out."""
    rec = get_recommendation(session, actor, report_key, number)
    require(actor, RESPOND, rec)
    task = _task(session, plan_key, task_code)
    if any(link.task_id == task.id for link in rec.links):
        raise Conflict(f"{report_key}/{number} is already linked to {plan_key}/{task_code}")
    _check_version(rec, expected_version)
    link = TaskLink(recommendation=rec, task_id=task.id, linked_by=actor.username)
    session.add(link)
    rec.version += 1
    session.flush()
    _audit(
        session,
        actor,
        "advisory.link",
        "advisory_recommendation",
        f"{report_key}/{number}",
        None,
        {"task": f"{plan_key}/{task_code}"},
    )
    return link


def unlink_task(
    session: Session,
    actor: Actor,
    *,
    report_key: str,
    number: str,
    plan_key: str,
    task_code: str,
    expected_version: int | None = None,
) -> None:
    rec = get_recommendation(session, actor, report_key, number)
    require(actor, RESPOND, rec)
    task = _task(session, plan_key, task_code)
    link = next((link for link in rec.links if link.task_id == task.id), None)
    if link is None:
        raise NotFound(f"{report_key}/{number} is not linked to {plan_key}/{task_code}")
    _check_version(rec, expected_version)
    rec.links.remove(link)
    rec.version += 1
    session.flush()
    _audit(
        session,
        actor,
        "advisory.unlink",
        "advisory_recommendation",
        f"{report_key}/{number}",
        {"task": f"{plan_key}/{task_code}"},
        None,
    )


# ---------------------------------------------------------------- tracker and adoption


@dataclass(frozen=True)
class LinkedTask:
    plan_key: str
    code: str
    title: str


@dataclass(frozen=True)
class TrackerRow:
    """One recommendation as the tracker shows it."""

    report: AdvisoryReport
    rec: Recommendation
    response: Response | None
    tasks: list[LinkedTask]

    @property
    def body(self) -> str:
        return f"{self.report.jurisdiction_code}:{self.report.body_key}"

    @property
    def position(self) -> str | None:
        return self.response.position if self.response else None

    # What the tracker list sorts on (:data:`TRACKER_SORTS`), as :class:`TrackerKey` has it.
    @property
    def report_key(self) -> str:
        return self.report.key

    @property
    def published_on(self) -> dt.date | None:
        return self.report.published_on

    @property
    def number(self) -> str:
        return self.rec.number

    @property
    def status(self) -> str:
        return self.rec.status

    @property
    def status_on(self) -> dt.date | None:
        return self.rec.status_on

    @property
    def benefit_amount(self) -> Decimal | None:
        return self.rec.benefit_amount


@dataclass(frozen=True)
class TrackerKey:
    """What the tracker list filters and sorts on, for one recommendation, read as plain
    columns: a list sorts and pages these, then loads whole rows for its page only
    (:func:`tracker_rows_for`)."""

    id: int
    body: str
    report_key: str
    published_on: dt.date | None
    number: str
    status: str
    position: str | None  # that of the latest response
    status_on: dt.date | None
    benefit_amount: Decimal | None


def _tasks_of(session: Session, recs: list[Recommendation]) -> dict[int, LinkedTask]:
    ids = sorted({link.task_id for r in recs for link in r.links})
    if not ids:
        return {}
    rows = session.execute(
        select(Task.id, Plan.key, Task.code, Task.title)
        .join(Plan, Plan.id == Task.plan_id)
        .where(Task.id.in_(ids))
    )
    return {i: LinkedTask(p, c, t) for i, p, c, t in rows}


def _rows_of(session: Session, recs: list[Recommendation]) -> list[TrackerRow]:
    tasks = _tasks_of(session, recs)
    return [
        TrackerRow(
            report=r.report,
            rec=r,
            response=r.responses[-1] if r.responses else None,
            tasks=[tasks[link.task_id] for link in r.links if link.task_id in tasks],
        )
        for r in recs
    ]


@dataclass(frozen=True, kw_only=True)
class TrackerFilter:
    """What the tracker list is narrowed to; ``None`` (or empty) leaves a field out."""

    body: str | None = None
    """The advisory body as ``CODE:key``, e.g. ``US:pcast``."""
    jurisdiction: str | None = None
    """A jurisdiction code, e.g. ``US`` (any case)."""
    report: str | None = None
    """A report's key."""
    status: str | None = None
    """One of :data:`STATUSES`."""
    position: str | None = None
    """The latest response's position (one of :data:`POSITIONS`), or ``none``: unanswered."""

    def keeps_position(self, position: str | None) -> bool:
        """Whether a recommendation whose latest response has ``position`` passes."""
        return not self.position or (position or "none") == self.position


def _tracker_select(stmt: Select[Any], actor: Actor, filters: TrackerFilter) -> Select[Any]:
    """``stmt`` over recommendations joined to their reports, narrowed to what ``actor`` may
    read and to the filters (all but ``position``), in report then number order."""
    require(actor, READ)
    problems = []
    if filters.status and filters.status not in STATUSES:
        problems.append(("status", f"use one of {', '.join(STATUSES)}"))
    if filters.position and filters.position not in (*POSITIONS, "none"):
        problems.append(("position", f"use one of {', '.join(POSITIONS)}, none"))
    if problems:
        raise ValidationFailed(problems)
    stmt = restrict(stmt, actor, READ, Recommendation).join(
        AdvisoryReport, AdvisoryReport.id == Recommendation.report_id
    )
    stmt = _body_filter(stmt, AdvisoryReport, filters.body, filters.jurisdiction)
    if filters.report:
        stmt = stmt.where(AdvisoryReport.key == filters.report)
    if filters.status:
        stmt = stmt.where(Recommendation.status == filters.status)
    return stmt.order_by(
        AdvisoryReport.jurisdiction_code,
        AdvisoryReport.body_key,
        AdvisoryReport.key,
        Recommendation.seq,
        Recommendation.id,
    )


def _with_row_parts(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` loading what a :class:`TrackerRow` shows: report, responses, task links."""
    return stmt.options(
        selectinload(Recommendation.report),
        selectinload(Recommendation.responses),
        selectinload(Recommendation.links),
    )


def tracker_rows(
    session: Session, actor: Actor, filters: TrackerFilter = TrackerFilter()
) -> list[TrackerRow]:
    """Every recommendation the actor may read, filtered, in report then number order."""
    stmt = _with_row_parts(_tracker_select(select(Recommendation), actor, filters))
    rows = _rows_of(session, list(session.scalars(stmt)))
    return [row for row in rows if filters.keeps_position(row.position)]


def tracker_keys(
    session: Session, actor: Actor, filters: TrackerFilter = TrackerFilter()
) -> list[TrackerKey]:
    """The sort keys of what :func:`tracker_rows` returns (same filters, same order), in one
    query of plain columns."""
    latest = (
        select(Response.position)
        .where(Response.recommendation_id == Recommendation.id)
        .order_by(Response.id.desc())
        .limit(1)
        .correlate(Recommendation)
        .scalar_subquery()
    )
    columns = select(
        Recommendation.id,
        AdvisoryReport.jurisdiction_code,
        AdvisoryReport.body_key,
        AdvisoryReport.key,
        AdvisoryReport.published_on,
        Recommendation.number,
        Recommendation.status,
        latest,
        Recommendation.status_on,
        Recommendation.benefit_amount,
    ).select_from(Recommendation)
    keys = [
        TrackerKey(i, f"{code}:{body_key}", key, published, number, st, pos, st_on, amount)
        for i, code, body_key, key, published, number, st, pos, st_on, amount in session.execute(
            _tracker_select(columns, actor, filters)
        )
    ]
    return [k for k in keys if filters.keeps_position(k.position)]


def tracker_rows_for(session: Session, actor: Actor, ids: Iterable[int]) -> list[TrackerRow]:
    """The tracker rows of the recommendations ``ids`` (one page of a list), in that order."""
    require(actor, READ)
    wanted = list(ids)
    if not wanted:
        return []
    stmt = _with_row_parts(
        restrict(select(Recommendation), actor, READ, Recommendation).where(
            Recommendation.id.in_(wanted)
        )
    )
    found = {r.id: r for r in session.scalars(stmt)}
    return _rows_of(session, [found[i] for i in wanted if i in found])


def adoption(
    session: Session, actor: Actor, *, jurisdiction: str | None = None
) -> list[BodyAdoption]:
    """Per advisory body, counts and shares of its recommendations by position and status.

    One set-based query (each recommendation's latest response by a correlated max id) hands
    plain outcomes to :func:`stcoord.analytics.adoption.adoption_by_body`.
    """
    require(actor, READ)
    latest = (
        select(func.max(Response.id))
        .where(Response.recommendation_id == Recommendation.id)
        .correlate(Recommendation)
        .scalar_subquery()
    )
    columns: Any = select(
        AdvisoryReport.jurisdiction_code,
        AdvisoryReport.body_key,
        Recommendation.status,
        Response.position,
    )
    stmt = restrict(columns, actor, READ, Recommendation)
    stmt = (
        stmt.select_from(Recommendation)
        .join(AdvisoryReport, AdvisoryReport.id == Recommendation.report_id)
        .outerjoin(Response, Response.id == latest)
        .order_by(AdvisoryReport.jurisdiction_code, AdvisoryReport.body_key)
    )
    stmt = _body_filter(stmt, AdvisoryReport, None, jurisdiction)
    return adoption_by_body(
        Outcome(f"{code}:{key}", position, status)
        for code, key, status, position in session.execute(stmt)
    )


def recommendations_for_task(
    session: Session, actor: Actor, *, plan_key: str, task_code: str
) -> list[Recommendation]:
    """The recommendations a plan task carries out."""
    require(actor, READ)
    task = session.scalar(
        select(Task)
        .join(Plan, Plan.id == Task.plan_id)
        .where(Plan.key == plan_key, Task.code == task_code)
    )
    if task is None:
        raise NotFound(f"plan {plan_key!r} has no task {task_code!r}")
    stmt = (
        restrict(select(Recommendation), actor, READ, Recommendation)
        .join(TaskLink, TaskLink.recommendation_id == Recommendation.id)
        .where(TaskLink.task_id == task.id)
        .options(selectinload(Recommendation.report), selectinload(Recommendation.responses))
        .order_by(Recommendation.report_id, Recommendation.seq)
    )
    return list(session.scalars(stmt))


def number_key(number: str) -> tuple[Any, ...]:
    """Natural order of recommendation numbers: 2 before 10, 3.2 before 3.10.

    >>> sorted(["10", "2", "3.10", "3.2"], key=number_key)
    ['2', '3.2', '3.10', '10']
    """
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in number.split("."))


# Sort keys of the tracker list, over a TrackerRow or a TrackerKey (the same attributes). The
# pagination helper sorts on ``(key is None, key or "")``: keys that may be 0 are wrapped in a
# tuple, so that the first status or a zero benefit does not read as "" beside numbers.
TRACKER_SORTS: dict[str, Any] = {
    "body": lambda r: r.body,
    "report": lambda r: r.report_key,
    "published_on": lambda r: r.published_on,
    "number": lambda r: (r.report_key, number_key(r.number)),
    "status": lambda r: (STATUSES.index(r.status),),
    "position": lambda r: r.position or "~",
    "status_on": lambda r: r.status_on,
    "benefit_amount": lambda r: None if r.benefit_amount is None else (r.benefit_amount,),
}
