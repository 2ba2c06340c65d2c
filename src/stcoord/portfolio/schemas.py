"""Request and response shapes of the portfolio API (kept apart from the ORM models)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stcoord.portfolio.models import Project, ScreenPair


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunCreate(_In):
    representation: str = "auto"
    threshold: float | None = None
    method: str = "auto"
    agencies: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    chunk_size: int = Field(default=10_000, ge=1)
    start: bool = True  # start it now in the background


class BatchCreate(_In):
    batch_source: str
    base_run_id: int | None = None
    threshold: float | None = None
    start: bool = True


class VerdictIn(_In):
    label: str
    comment: str = ""
    version: int | None = None


class AssignIn(_In):
    pair_ids: list[int]
    reviewer: str | None = None


class ThresholdIn(_In):
    amount: Decimal
    currency: str = "USD"
    version: int | None = None


class ProjectRead(BaseModel):
    id: int
    source: str
    external_id: str
    kind: str
    title: str
    abstract: str
    agency: str
    program: str | None
    institution: str | None
    amount: Decimal | None
    currency: str
    start_date: dt.date | None
    end_date: dt.date | None
    field_codes: list[str]
    language: str
    investigators: list[dict[str, Any]] = Field(default_factory=list)


class PairRead(BaseModel):
    id: int
    run_id: int
    left: dict[str, Any]
    right: dict[str, Any]
    score: float
    cross_agency: bool
    time_overlap: bool
    shared_investigators: int
    assigned_to_id: int | None
    verdict: str | None
    verdict_comment: str | None
    verdict_by: str | None
    verdict_at: dt.datetime | None
    version: int


def project_brief(project: Project, agency: str) -> dict[str, Any]:
    return {
        "id": project.id,
        "source": project.source,
        "external_id": project.external_id,
        "title": project.title,
        "agency": agency,
        "institution": project.institution,
        "start_date": project.start_date,
        "end_date": project.end_date,
        "amount": project.amount,
    }


def pair_read(pair: ScreenPair, projects: dict[int, Project], agencies: dict[int, str]) -> PairRead:
    left, right = projects[pair.left_project_id], projects[pair.right_project_id]
    return PairRead(
        id=pair.id,
        run_id=pair.run_id,
        left=project_brief(left, agencies.get(left.agency_id, "")),
        right=project_brief(right, agencies.get(right.agency_id, "")),
        score=pair.score,
        cross_agency=pair.cross_agency,
        time_overlap=pair.time_overlap,
        shared_investigators=pair.shared_investigators,
        assigned_to_id=pair.assigned_to_id,
        verdict=pair.verdict,
        verdict_comment=pair.verdict_comment,
        verdict_by=pair.verdict_by,
        verdict_at=pair.verdict_at,
        version=pair.version,
    )
