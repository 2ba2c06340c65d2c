"""JSON routes of the portfolio under /api/v1/portfolio.

Lists are paginated (``limit``/``offset``/``sort``, answered as ``{items, total, limit, offset}``)
and the pair list exports as CSV or XLSX (``format=csv|xlsx``). Client mistakes are 4xx with the
usual ``{"error": {code, message, details}}`` body.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from stcoord.analytics.similarity import DEFAULT_THRESHOLD
from stcoord.errors import ValidationFailed
from stcoord.portfolio import adjudication, jobs, landscape, researchers, screening
from stcoord.portfolio.imports import import_projects
from stcoord.portfolio.mapping import parse_mapping, shipped_mappings
from stcoord.portfolio.projects import (
    PAIR_EXPORT_HEADERS,
    agency_names,
    get_project,
    list_projects,
    pair_export_rows,
    project_read,
)
from stcoord.portfolio.schemas import (
    AssignIn,
    BatchCreate,
    PairRead,
    ProjectRead,
    RunCreate,
    ThresholdIn,
    VerdictIn,
    pair_read,
)
from stcoord.portfolio.screening import PairFilter, projects_by_id, run_dict
from stcoord.tabular import MEDIA_TYPES, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf
from stcoord.web.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/portfolio", tags=["portfolio"], dependencies=[Depends(check_csrf)])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/mappings")
def list_mappings(actor: CurrentActor) -> list[dict[str, Any]]:
    """The shipped import mappings (the file's shape is detected when none is named)."""
    from stcoord.auth.permissions import require

    require(actor, "portfolio.read")
    return [
        {"key": m.key, "name": m.name, "source": m.source, "kind": m.kind, "detect": m.detect}
        for m in shipped_mappings().values()
    ]


@router.post("/imports")
async def upload_projects(
    session: DbSession,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
    mapping: Annotated[str | None, Form(description="A shipped mapping key.")] = None,
    mapping_file: Annotated[UploadFile | None, File(description="A mapping YAML file.")] = None,
    source: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    """Import a JSONL, CSV or XLSX file of projects; 422 lists every bad row, nothing written.
    The mapping is a shipped one (by key), an uploaded mapping file, or detected from the file."""
    data = await file.read()
    name = file.filename or "upload.jsonl"
    mapping_text = (await mapping_file.read()).decode("utf-8", "replace") if mapping_file else None

    def run() -> dict[str, Any]:
        chosen = None
        if mapping_text is not None:
            chosen = parse_mapping(mapping_text, "mapping_file")
        elif mapping:
            shipped = shipped_mappings()
            if mapping not in shipped:
                raise ValidationFailed(
                    [("mapping", f"no shipped mapping {mapping!r}; use {sorted(shipped)}")]
                )
            chosen = shipped[mapping]
        return import_projects(
            session,
            actor,
            stream=io.BytesIO(data),
            filename=name,
            mapping=chosen,
            source=source or None,
        ).as_dict()

    return await run_in_threadpool(run)


@router.get("/projects")
def projects(
    session: DbSession,
    actor: CurrentActor,
    q: str | None = None,
    agency: str | None = None,
    source: str | None = None,
    sort: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ProjectRead]:
    rows, total = list_projects(
        session, actor, q=q, agency=agency, source=source, sort=sort, limit=limit, offset=offset
    )
    return Page(
        items=[project_read(session, p) for p in rows], total=total, limit=limit, offset=offset
    )


@router.get("/projects/{project_id}")
def project(session: DbSession, actor: CurrentActor, project_id: int) -> ProjectRead:
    return project_read(session, get_project(session, actor, project_id))


# ------------------------------------------------------------------------------- runs


@router.get("/runs")
def runs(
    session: DbSession, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
) -> Page[dict[str, Any]]:
    rows = screening.list_runs(session, actor)
    return Page(
        items=[run_dict(r) for r in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


def _start(request: Request, actor: Any, run_id: int) -> None:
    jobs.start(request.app.state.database, actor, run_id)


@router.post("/runs", status_code=202)
def create_run(
    request: Request, session: DbSession, actor: CurrentActor, body: RunCreate
) -> dict[str, Any]:
    """Queue a screen (and start it in the background unless ``start`` is false); poll
    ``GET /runs/{id}`` for progress."""
    run = screening.create_run(
        session,
        actor,
        representation=body.representation,
        threshold=DEFAULT_THRESHOLD if body.threshold is None else body.threshold,
        method=body.method,
        agencies=body.agencies,
        sources=body.sources,
        chunk_size=body.chunk_size,
    )
    out = run_dict(run)
    if body.start:
        session.commit()  # the job reads the run from its own transaction
        _start(request, actor, run.id)
    return out


@router.post("/runs/batch", status_code=202)
def create_batch_run(
    request: Request, session: DbSession, actor: CurrentActor, body: BatchCreate
) -> dict[str, Any]:
    """Screen a new batch (the projects of one source) against the portfolio of a finished run."""
    run = screening.create_batch_run(
        session,
        actor,
        batch_source=body.batch_source,
        base_run_id=body.base_run_id,
        threshold=body.threshold,
    )
    out = run_dict(run)
    if body.start:
        session.commit()
        _start(request, actor, run.id)
    return out


@router.get("/runs/{run_id}")
def run(session: DbSession, actor: CurrentActor, run_id: int) -> dict[str, Any]:
    out = run_dict(screening.get_run(session, actor, run_id))
    out["running_here"] = jobs.is_running_here(run_id)
    return out


@router.post("/runs/{run_id}/resume", status_code=202)
def resume_run(
    request: Request, session: DbSession, actor: CurrentActor, run_id: int
) -> dict[str, Any]:
    """Continue a run that stopped (failed, or interrupted while running) from its checkpoint."""
    from stcoord.auth.permissions import require
    from stcoord.errors import Conflict

    require(actor, "portfolio.screen")
    current = screening.get_run(session, actor, run_id)
    if not screening.resumable(current) or jobs.is_running_here(run_id):
        raise Conflict(f"screen run {run_id} is {current.status}", current=run_dict(current))
    _start(request, actor, run_id)
    return run_dict(current)


@router.get("/runs/{run_id}/canonical")
def canonical(session: DbSession, actor: CurrentActor, run_id: int) -> list[dict[str, Any]]:
    """The run's pairs as ``stcoord portfolio screen --json`` prints them."""
    return screening.stored_pairs(session, actor, run_id)


# ------------------------------------------------------------------------------ pairs


def _filter(
    run: int | None,
    min_score: float | None,
    cross_agency: bool | None,
    shared: bool | None,
    time_overlap: bool | None,
    verdict: str | None,
    assigned_to: int | None,
    agency: str | None,
) -> PairFilter:
    return PairFilter(
        run_id=run,
        min_score=min_score,
        cross_agency=cross_agency,
        shared_investigators=shared,
        time_overlap=time_overlap,
        verdict=verdict or None,
        assigned_to=assigned_to,
        agency=agency or None,
    )


@router.get("/pairs", response_model=None)
def pairs(
    session: DbSession,
    actor: CurrentActor,
    run: int | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    cross_agency: bool | None = None,
    shared: bool | None = None,
    time_overlap: bool | None = None,
    verdict: str | None = None,
    assigned_to: int | None = None,
    agency: str | None = None,
    sort: str | None = "-score",
    limit: Limit = 50,
    offset: Offset = 0,
    format: str | None = None,
) -> Page[PairRead] | Response:
    """Candidate pairs with filters; ``format=csv|xlsx`` exports every matching pair."""
    flt = _filter(run, min_score, cross_agency, shared, time_overlap, verdict, assigned_to, agency)
    if format:
        if format not in MEDIA_TYPES:
            raise ValidationFailed([("format", "use csv or xlsx")])
        rows, _ = screening.list_pairs(session, actor, flt, sort=sort, limit=None)
        return Response(
            write_table(PAIR_EXPORT_HEADERS, pair_export_rows(session, rows), format),
            media_type=MEDIA_TYPES[format],
            headers={"content-disposition": f'attachment; filename="pairs.{format}"'},
        )
    rows, total = screening.list_pairs(session, actor, flt, sort=sort, limit=limit, offset=offset)
    projects = projects_by_id(
        session, [p.left_project_id for p in rows] + [p.right_project_id for p in rows]
    )
    agencies = agency_names(session, {p.agency_id for p in projects.values()})
    return Page(
        items=[pair_read(p, projects, agencies) for p in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/pairs/{pair_id}")
def pair(session: DbSession, actor: CurrentActor, pair_id: int) -> dict[str, Any]:
    """Both projects in full, the matching passages (character offsets), flags and verdicts."""
    from stcoord.portfolio.pairs_view import pair_detail

    return pair_detail(session, actor, pair_id)


@router.post("/pairs/{pair_id}/verdict")
def verdict(
    session: DbSession, actor: CurrentActor, pair_id: int, body: VerdictIn
) -> dict[str, Any]:
    p = adjudication.record_verdict(
        session,
        actor,
        pair_id=pair_id,
        label=body.label,
        comment=body.comment,
        version=body.version,
    )
    return {"id": p.id, "verdict": p.verdict, "comment": p.verdict_comment, "version": p.version}


@router.post("/pairs/assign")
def assign(session: DbSession, actor: CurrentActor, body: AssignIn) -> dict[str, Any]:
    changed = adjudication.assign(session, actor, pair_ids=body.pair_ids, reviewer=body.reviewer)
    return {"changed": changed}


@router.get("/precision")
def precision(
    session: DbSession, actor: CurrentActor, run: int | None = None, by: str = "week"
) -> dict[str, Any]:
    """Precision per run and cumulative over time (confirmed = duplication + overlap)."""
    report = adjudication.precision(session, actor, run_id=run, by=by)
    return {
        "runs": [
            {
                "run_id": r.run_id,
                "kind": r.kind,
                "threshold": r.threshold,
                "representation": r.representation,
                **r.tally.as_dict(),
            }
            for r in report.runs
        ],
        "over_time": [
            {
                "period": p.period,
                "adjudicated": p.adjudicated,
                "confirmed": p.confirmed,
                "cumulative": p.cumulative.as_dict(),
            }
            for p in report.over_time
        ],
        "total": report.total.as_dict(),
    }


# ---------------------------------------------------------------------- researcher checks


@router.get("/checks/funded-twice")
def funded_twice(
    session: DbSession,
    actor: CurrentActor,
    run: int,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    cross_agency_only: bool = True,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[dict[str, Any]]:
    rows = researchers.funded_twice(
        session, actor, run_id=run, min_score=min_score, cross_agency_only=cross_agency_only
    )
    return Page(
        items=[asdict(r) for r in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


@router.get("/checks/concurrent")
def concurrent(
    session: DbSession,
    actor: CurrentActor,
    threshold: str | None = None,
    currency: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Investigators whose concurrent funding is above the threshold (the stored setting unless
    ``threshold`` is given)."""
    limit_used, cur, rows = researchers.concurrent_funding(
        session, actor, threshold=threshold, currency=currency
    )
    return {
        "threshold": limit_used,
        "currency": cur,
        "items": [asdict(r) for r in rows[offset : offset + limit]],
        "total": len(rows),
        "limit": limit,
        "offset": offset,
    }


@router.get("/settings/concurrent-threshold")
def get_threshold(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    amount, currency, version = researchers.get_threshold(session, actor)
    return {"amount": amount, "currency": currency, "version": version}


@router.put("/settings/concurrent-threshold")
def put_threshold(session: DbSession, actor: CurrentActor, body: ThresholdIn) -> dict[str, Any]:
    row = researchers.set_threshold(
        session, actor, amount=body.amount, currency=body.currency, version=body.version
    )
    return {**row.value, "version": row.version}


# ------------------------------------------------------------------------------ landscape


@router.get("/landscape")
def get_landscape(
    session: DbSession,
    actor: CurrentActor,
    n_topics: Annotated[int | None, Query(ge=2, le=200)] = None,
    source: Annotated[list[str] | None, Query()] = None,
    jurisdiction: str = "US",
    priorities: str | None = None,
) -> JSONResponse:
    view = landscape.build(
        session,
        actor,
        n_topics=n_topics,
        sources=source or [],
        jurisdiction=jurisdiction.upper(),
        priority_set=priorities,
    )
    return JSONResponse(landscape.as_json(view))
