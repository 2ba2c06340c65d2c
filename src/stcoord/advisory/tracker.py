"""The advisory tracker's data: per advisory body its adoption rate, and per report each
recommendation with the government's response, its status, the plan tasks that carry it out and
the benefit claimed. The same data serves the JSON API, the HTML page and the PDF (rendered in
``advisory/pages.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.advisory import schemas, service
from stcoord.advisory.models import AdvisoryReport
from stcoord.analytics.adoption import BodyAdoption, Outcome, adoption_by_body
from stcoord.auth.permissions import Actor
from stcoord.institutions.models import Body, Jurisdiction


@dataclass(frozen=True)
class ReportSection:
    report: AdvisoryReport
    rows: list[service.TrackerRow]


@dataclass(frozen=True)
class BodySection:
    code: str
    key: str
    body: Body | None  # None when the mechanism no longer has it
    adoption: BodyAdoption
    reports: list[ReportSection]
    benefits: dict[str, Decimal]  # currency -> total benefit claimed


@dataclass(frozen=True)
class TrackerData:
    bodies: list[BodySection]
    body: str | None
    jurisdiction: str | None

    @property
    def total(self) -> int:
        return sum(b.adoption.total for b in self.bodies)


def _bodies(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Body]:
    if not pairs:
        return {}
    codes = sorted({c for c, _ in pairs})
    keys = sorted({k for _, k in pairs})
    rows = session.execute(
        select(Jurisdiction.code, Body)
        .join(Body, Body.jurisdiction_id == Jurisdiction.id)
        .where(Jurisdiction.code.in_(codes), Body.key.in_(keys))
    )
    return {(code, body.key): body for code, body in rows if (code, body.key) in pairs}


def tracker_data(
    session: Session, actor: Actor, filters: service.TrackerFilter = service.TrackerFilter()
) -> TrackerData:
    """Every recommendation the actor may read, grouped by body and report."""
    rows = service.tracker_rows(session, actor, filters)
    grouped: dict[tuple[str, str], dict[str, list[service.TrackerRow]]] = {}
    for row in rows:
        pair = (row.report.jurisdiction_code, row.report.body_key)
        grouped.setdefault(pair, {}).setdefault(row.report.key, []).append(row)
    adoption = {
        a.body: a for a in adoption_by_body(Outcome(r.body, r.position, r.rec.status) for r in rows)
    }
    bodies = _bodies(session, set(grouped))
    sections = []
    for (code, key), reports in grouped.items():
        benefits: dict[str, Decimal] = {}
        for report_rows in reports.values():
            for r in report_rows:
                if r.rec.benefit_amount is not None:
                    cur = r.rec.benefit_currency or ""
                    benefits[cur] = benefits.get(cur, Decimal(0)) + r.rec.benefit_amount
        ordered = sorted(
            reports.values(),
            key=lambda rs: (rs[0].report.published_on or dt.date.min, rs[0].report.key),
            reverse=True,
        )
        sections.append(
            BodySection(
                code=code,
                key=key,
                body=bodies.get((code, key)),
                adoption=adoption[f"{code}:{key}"],
                reports=[
                    ReportSection(
                        rs[0].report,
                        sorted(rs, key=lambda r: service.number_key(r.rec.number)),
                    )
                    for rs in ordered
                ],
                benefits=benefits,
            )
        )
    return TrackerData(sections, filters.body, filters.jurisdiction)


def adoption_sections(
    session: Session, actor: Actor, *, jurisdiction: str | None = None
) -> list[BodySection]:
    """Each body's adoption (one aggregate query), without its reports: for the overview."""
    rows = service.adoption(session, actor, jurisdiction=jurisdiction)
    pairs = {tuple(a.body.split(":", 1)) for a in rows}
    bodies = _bodies(session, {(c, k) for c, k in pairs})
    sections = []
    for a in rows:
        code, key = a.body.split(":", 1)
        sections.append(BodySection(code, key, bodies.get((code, key)), a, [], {}))
    return sections


def tracker_json(data: TrackerData) -> dict[str, Any]:
    return {
        "filters": {"body": data.body, "jurisdiction": data.jurisdiction},
        "total": data.total,
        "bodies": [
            {
                "body": f"{b.code}:{b.key}",
                "name": b.body.name if b.body else b.key,
                "adoption": b.adoption.as_dict(),
                "benefits": {cur: float(v) for cur, v in sorted(b.benefits.items())},
                "reports": [
                    {
                        **schemas.report_view(r.report),
                        "recommendations": [schemas.tracker_view(row) for row in r.rows],
                    }
                    for r in b.reports
                ],
            }
            for b in data.bodies
        ],
    }


# ---------------------------------------------------------------- HTML and PDF


# The report lists at most this many recommendations (the adoption table always covers all);
# the CSV/XLSX export and the tracker list have every row. WeasyPrint needed over 1.6 GB and
# minutes for 5,000 rows in benchmarks/bench_advisory.py.
REPORT_MAX_ROWS = 400


def _capped(data: TrackerData, limit: int) -> tuple[TrackerData, int]:
    """The data with at most ``limit`` recommendations listed, and how many were left out."""
    left, omitted, bodies = limit, 0, []
    for b in data.bodies:
        sections = []
        for section in b.reports:
            shown = section.rows[: max(left, 0)]
            omitted += len(section.rows) - len(shown)
            left -= len(shown)
            if shown:
                sections.append(ReportSection(section.report, shown))
        bodies.append(BodySection(b.code, b.key, b.body, b.adoption, sections, b.benefits))
    return TrackerData(bodies, data.body, data.jurisdiction), omitted
