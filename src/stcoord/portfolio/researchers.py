"""Researcher checks in the style of Japan's e-Rad.

* **Funded twice**: the same investigator on both projects of a candidate pair from a screen
  (similar work), by default only where the two projects are at different agencies.
* **Concurrent funding**: per investigator, the largest sum of the amounts of their projects
  that run at the same time (each project counted in full for each of its investigators),
  against a threshold the office sets (stored as the ``concurrent_funding_threshold`` setting,
  or passed per call). Amounts in different currencies are never summed together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.errors import Conflict, ValidationFailed
from stcoord.portfolio.models import (
    Investigator,
    PortfolioSetting,
    Project,
    ProjectInvestigator,
    ScreenPair,
)
from stcoord.portfolio.screening import get_run

THRESHOLD_KEY = "concurrent_funding_threshold"


# ------------------------------------------------------------------------------ settings


def get_threshold(session: Session, actor: Actor) -> tuple[Decimal | None, str, int]:
    """The office's concurrent-funding threshold: (amount or None, currency, version)."""
    require(actor, "portfolio.read")
    row = session.get(PortfolioSetting, THRESHOLD_KEY)
    if row is None:
        return None, "USD", 0
    return Decimal(str(row.value["amount"])), str(row.value.get("currency", "USD")), row.version


def set_threshold(
    session: Session,
    actor: Actor,
    *,
    amount: Decimal | str | float,
    currency: str = "USD",
    version: int | None = None,
) -> PortfolioSetting:
    require(actor, "portfolio.manage")
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValidationFailed([("amount", f"not an amount: {amount!r}")]) from None
    problems = []
    if not value.is_finite() or value <= 0:
        problems.append(("amount", "a positive amount"))
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        problems.append(("currency", "a three-letter currency code"))
    if problems:
        raise ValidationFailed(problems)
    row = session.get(PortfolioSetting, THRESHOLD_KEY)
    before = dict(row.value) if row is not None else None
    if row is None:
        row = PortfolioSetting(key=THRESHOLD_KEY, value={}, updated_by=actor.username, version=1)
        session.add(row)
    else:
        if version is not None and version != row.version:
            raise Conflict("the threshold was changed meanwhile", current=dict(row.value))
        row.version += 1
    row.value = {"amount": str(value), "currency": currency}
    row.updated_by = actor.username
    session.flush()
    record_change(
        session,
        actor,
        action="portfolio.setting",
        object_type="portfolio_setting",
        object_key=THRESHOLD_KEY,
        before=before,
        after=row.value,
        summary=f"concurrent funding threshold {value} {currency}",
    )
    return row


# ---------------------------------------------------------------------------- funded twice


@dataclass(frozen=True)
class FundedTwice:
    investigator_id: int
    investigator: str
    institution: str | None
    pair_id: int
    score: float
    cross_agency: bool
    time_overlap: bool
    left_project_id: int
    right_project_id: int


def funded_twice(
    session: Session,
    actor: Actor,
    *,
    run_id: int,
    min_score: float | None = None,
    cross_agency_only: bool = True,
) -> list[FundedTwice]:
    """Investigators on both projects of a candidate pair of ``run_id``, highest score first."""
    get_run(session, actor, run_id)
    stmt = select(ScreenPair).where(
        ScreenPair.run_id == run_id, ScreenPair.shared_investigators > 0
    )
    if cross_agency_only:
        stmt = stmt.where(ScreenPair.cross_agency.is_(True))
    if min_score is not None:
        stmt = stmt.where(ScreenPair.score >= min_score)
    pairs = list(session.scalars(stmt.order_by(ScreenPair.score.desc(), ScreenPair.id)))
    project_ids = {p.left_project_id for p in pairs} | {p.right_project_id for p in pairs}
    people: dict[int, set[int]] = defaultdict(set)
    for pid, iid in session.execute(
        select(ProjectInvestigator.project_id, ProjectInvestigator.investigator_id).where(
            ProjectInvestigator.project_id.in_(sorted(project_ids))
        )
    ):
        people[pid].add(iid)
    shared_ids = {
        iid for p in pairs for iid in people[p.left_project_id] & people[p.right_project_id]
    }
    names = {
        i.id: i
        for i in session.scalars(select(Investigator).where(Investigator.id.in_(shared_ids)))
    }
    out = []
    for p in pairs:
        for iid in sorted(people[p.left_project_id] & people[p.right_project_id]):
            person = names[iid]
            out.append(
                FundedTwice(
                    investigator_id=iid,
                    investigator=person.name,
                    institution=person.institution,
                    pair_id=p.id,
                    score=p.score,
                    cross_agency=p.cross_agency,
                    time_overlap=p.time_overlap,
                    left_project_id=p.left_project_id,
                    right_project_id=p.right_project_id,
                )
            )
    return out


# ------------------------------------------------------------------------ concurrent funding


@dataclass(frozen=True)
class Span:
    project_id: int
    amount: Decimal
    start: dt.date
    end: dt.date


def peak_concurrent(spans: Iterable[Span]) -> tuple[Decimal, dt.date | None, list[int]]:
    """The largest sum of amounts of spans running on one day, the first such day and the
    projects then running (a span runs from its start to its end, both days included).

    >>> d = dt.date
    >>> peak_concurrent([Span(1, Decimal(5), d(2020, 1, 1), d(2020, 12, 31)),
    ...                  Span(2, Decimal(3), d(2020, 6, 1), d(2021, 5, 31)),
    ...                  Span(3, Decimal(4), d(2021, 1, 1), d(2021, 12, 31))])
    (Decimal('8'), datetime.date(2020, 6, 1), [1, 2])
    """
    events: list[tuple[dt.date, int, Span]] = []
    for s in spans:
        events.append((s.start, 0, s))  # starts before ends on the same day: both run that day
        events.append((s.end + dt.timedelta(days=1), -1, s))
    events.sort(key=lambda e: (e[0], e[1], e[2].project_id))
    running: dict[int, Decimal] = {}
    best, best_day, best_set = Decimal(0), None, []
    i = 0
    while i < len(events):
        day = events[i][0]
        while i < len(events) and events[i][0] == day:
            _, kind, span = events[i]
            if kind < 0:
                running.pop(span.project_id, None)
            else:
                running[span.project_id] = span.amount
            i += 1
        total = sum(running.values(), Decimal(0))
        if total > best:
            best, best_day, best_set = total, day, sorted(running)
    return best, best_day, best_set


@dataclass(frozen=True)
class Concentration:
    investigator_id: int
    investigator: str
    institution: str | None
    currency: str
    peak: Decimal
    peak_day: dt.date | None
    projects: list[int]
    project_count: int


def concurrent_funding(
    session: Session,
    actor: Actor,
    *,
    threshold: Decimal | float | str | None = None,
    currency: str | None = None,
) -> tuple[Decimal | None, str, list[Concentration]]:
    """Investigators whose concurrent funding is above the threshold (the stored setting unless
    one is passed), largest first. Projects without an amount or a start date are left out; an
    open end counts as running on."""
    require(actor, "portfolio.read")
    stored, stored_currency, _ = get_threshold(session, actor)
    if threshold is not None:
        try:
            limit: Decimal | None = Decimal(str(threshold))
        except InvalidOperation:
            raise ValidationFailed([("threshold", f"not an amount: {threshold!r}")]) from None
    else:
        limit = stored
    cur = (currency or stored_currency or "USD").upper()
    if limit is None:
        return None, cur, []
    rows = session.execute(
        select(
            ProjectInvestigator.investigator_id,
            Project.id,
            Project.amount,
            Project.start_date,
            Project.end_date,
        )
        .join(Project, Project.id == ProjectInvestigator.project_id)
        .where(
            Project.amount.is_not(None),
            Project.start_date.is_not(None),
            Project.currency == cur,
        )
    ).all()
    by_person: dict[int, list[Span]] = defaultdict(list)
    for iid, pid, amount, start, end in rows:
        if amount is None or start is None:
            continue
        by_person[iid].append(Span(pid, amount, start, end or dt.date.max - dt.timedelta(days=1)))
    hits: list[tuple[int, Decimal, dt.date | None, list[int], int]] = []
    for iid, spans in by_person.items():
        if sum((s.amount for s in spans), Decimal(0)) <= limit:
            continue  # cannot exceed it even if all ran at once
        peak, day, projects = peak_concurrent(spans)
        if peak > limit:
            hits.append((iid, peak, day, projects, len(spans)))
    people = {
        i.id: i
        for i in session.scalars(
            select(Investigator).where(Investigator.id.in_([h[0] for h in hits]))
        )
    }
    out = [
        Concentration(
            investigator_id=iid,
            investigator=people[iid].name,
            institution=people[iid].institution,
            currency=cur,
            peak=peak,
            peak_day=day,
            projects=projects,
            project_count=n,
        )
        for iid, peak, day, projects, n in hits
    ]
    out.sort(key=lambda c: (-c.peak, c.investigator))
    return limit, cur, out


def as_rows(items: Iterable[Any]) -> list[dict[str, Any]]:
    from dataclasses import asdict

    return [asdict(i) for i in items]
