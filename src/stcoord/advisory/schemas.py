"""Request bodies and JSON views of the advisory domain (kept apart from the ORM models)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stcoord.advisory.models import AdvisoryReport, Recommendation, Response, StatusChange
from stcoord.advisory.service import LinkedTask, TrackerRow


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportCreate(_In):
    jurisdiction: str = Field(examples=["US"])
    body: str = Field(description="Key of the advisory body in its mechanism", examples=["pcast"])
    key: str = Field(description="Stable key of the report", examples=["pcast-2024-ai"])
    title: str
    published_on: dt.date | None = None
    url: str | None = None
    source: str | None = None
    summary: str | None = None
    names: dict[str, str] = Field(default_factory=dict)
    unverified: bool = False


class ReportUpdate(_In):
    version: int = Field(description="The version you read; a stale one is a 409")
    title: str | None = None
    published_on: dt.date | None = None
    url: str | None = None
    source: str | None = None
    summary: str | None = None
    names: dict[str, str] | None = None
    unverified: bool | None = None


class RecommendationCreate(_In):
    number: str = Field(examples=["3.1"])
    text: str
    addressed_to: list[str] = Field(default_factory=list, description="Body keys")


class RecommendationUpdate(_In):
    version: int
    text: str | None = None
    addressed_to: list[str] | None = None


class ResponseIn(_In):
    version: int
    position: str = Field(description="accept | partly_accept | reject | under_consideration")
    text: str
    on_date: dt.date
    responding_body: str | None = Field(default=None, description="Body key")


class StatusIn(_In):
    version: int
    status: str = Field(description="open | partly_addressed | fully_addressed")
    on_date: dt.date
    benefit: str | None = None
    benefit_amount: Decimal | None = Field(default=None, ge=0)
    benefit_currency: str | None = None
    evidence: str | None = None
    note: str | None = None


class TaskLinkIn(_In):
    version: int | None = None
    plan: str
    task: str


def _money(amount: Decimal | None) -> float | None:
    return float(amount) if amount is not None else None


def report_view(report: AdvisoryReport, *, recommendations: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "key": report.key,
        "jurisdiction": report.jurisdiction_code,
        "body": report.body_key,
        "title": report.title,
        "names": report.names,
        "published_on": report.published_on,
        "url": report.url,
        "source": report.source,
        "summary": report.summary,
        "unverified": report.unverified,
        "version": report.version,
        "recommendation_count": len(report.recommendations),
    }
    if recommendations:
        view["recommendations"] = [recommendation_view(r) for r in report.recommendations]
    return view


def response_view(r: Response) -> dict[str, Any]:
    return {
        "position": r.position,
        "text": r.text,
        "responding_body": r.responding_body_key,
        "on_date": r.on_date,
        "recorded_by": r.recorded_by,
    }


def change_view(c: StatusChange) -> dict[str, Any]:
    return {
        "from": c.from_status,
        "to": c.to_status,
        "on_date": c.on_date,
        "benefit": c.benefit,
        "benefit_amount": _money(c.benefit_amount),
        "benefit_currency": c.benefit_currency,
        "evidence": c.evidence,
        "note": c.note,
        "recorded_by": c.recorded_by,
    }


def task_view(t: LinkedTask) -> dict[str, Any]:
    return {"plan": t.plan_key, "task": t.code, "title": t.title}


def recommendation_view(
    rec: Recommendation,
    *,
    tasks: list[LinkedTask] | None = None,
    history: bool = False,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "report": rec.report.key,
        "body": f"{rec.report.jurisdiction_code}:{rec.report.body_key}",
        "number": rec.number,
        "text": rec.text,
        "addressed_to": rec.addressed_to,
        "position": rec.position,
        "status": rec.status,
        "status_on": rec.status_on,
        "benefit": rec.benefit,
        "benefit_amount": _money(rec.benefit_amount),
        "benefit_currency": rec.benefit_currency,
        "evidence": rec.evidence,
        "version": rec.version,
    }
    if tasks is not None:
        view["tasks"] = [task_view(t) for t in tasks]
    if history:
        view["responses"] = [response_view(r) for r in rec.responses]
        view["history"] = [change_view(c) for c in rec.history]
    return view


def tracker_view(row: TrackerRow) -> dict[str, Any]:
    view = recommendation_view(row.rec, tasks=row.tasks)
    view["report_title"] = row.report.title
    view["published_on"] = row.report.published_on
    view["response"] = response_view(row.response) if row.response else None
    return view


TRACKER_COLUMNS = (
    "body",
    "report",
    "report_title",
    "published_on",
    "number",
    "text",
    "addressed_to",
    "position",
    "response",
    "response_date",
    "status",
    "status_on",
    "benefit",
    "benefit_amount",
    "benefit_currency",
    "evidence",
    "tasks",
)


def tracker_cells(row: TrackerRow) -> list[Any]:
    """One row of the tracker export (CSV/XLSX), in :data:`TRACKER_COLUMNS` order."""
    rec, resp = row.rec, row.response
    return [
        row.body,
        row.report.key,
        row.report.title,
        row.report.published_on,
        rec.number,
        rec.text,
        list(rec.addressed_to or []),
        row.position or "",
        resp.text if resp else "",
        resp.on_date if resp else None,
        rec.status,
        rec.status_on,
        rec.benefit or "",
        _money(rec.benefit_amount),
        rec.benefit_currency or "",
        rec.evidence or "",
        [f"{t.plan_key}/{t.code}" for t in row.tasks],
    ]
