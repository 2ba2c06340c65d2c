"""JSON routes of strategic plans under /api/v1/plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from stcoord.errors import ValidationFailed
from stcoord.plans import schemas, service, sheets
from stcoord.plans.plan_file import load_plan, parse_plan
from stcoord.plans.status import alignment, plan_status
from stcoord.tabular import MEDIA_TYPES, TableError, read_table, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf

router = APIRouter(prefix="/plans", tags=["plans"], dependencies=[Depends(check_csrf)])


@router.get("")
def list_plans(
    session: DbSession, actor: CurrentActor, jurisdiction: str | None = None
) -> dict[str, Any]:
    plans = service.list_plans(session, actor, jurisdiction)
    items = [schemas.plan_view(session, p) for p in plans]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@router.post("", status_code=201)
def open_plan(data: schemas.PlanOpen, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    plan = service.open_plan(
        session,
        actor,
        code=data.jurisdiction,
        template_key=data.template,
        key=data.key,
        title=data.title,
        lead_body=data.lead_body,
        names=data.names,
        period_start=data.period_start,
        period_end=data.period_end,
        summary=data.summary,
        opened_on=data.opened_on,
    )
    return schemas.plan_view(session, plan)


@router.post("/load", status_code=200)
async def load_plan_file(request: Request, session: DbSession, actor: CurrentActor) -> Any:
    """Replay a plan file (YAML body) through the procedure engine."""
    service.require_manage(actor)
    text = (await request.body()).decode("utf-8", errors="replace")
    name = request.headers.get("x-filename", "<request body>")

    def load() -> dict[str, Any]:
        spec = parse_plan(text, name)
        return {"key": spec.key, "created": load_plan(session, actor, spec, name)}

    return await run_in_threadpool(load)


@router.get("/{key}")
def get_plan(
    key: str, session: DbSession, actor: CurrentActor, today: dt.date | None = None
) -> dict[str, Any]:
    plan = service.get_plan(session, actor, key)
    return schemas.plan_view(session, plan, plan_status(session, actor, key, today))


@router.get("/{key}/status")
def get_status(
    key: str, session: DbSession, actor: CurrentActor, today: dt.date | None = None
) -> dict[str, Any]:
    """Current stage, every unmet gate condition, and per goal its progress and status."""
    return schemas.status_view(plan_status(session, actor, key, today))


@router.get("/{key}/timeline")
def get_timeline(key: str, session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return [schemas.event_view(e) for e in service.timeline(session, actor, key)]


@router.post("/{key}/advance")
def advance(
    key: str, data: schemas.AdvanceIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Close the current stage and open the next; 409 lists every unmet gate condition."""
    service.advance(session, actor, plan_key=key, on_date=data.on_date)
    return schemas.plan_view(session, service.get_plan(session, actor, key))


@router.post("/{key}/outputs", status_code=201)
def record_output(
    key: str, data: schemas.OutputIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    row = service.record_output(
        session,
        actor,
        plan_key=key,
        stage_key=data.stage,
        name=data.name,
        on_date=data.on_date,
        reference=data.reference,
    )
    return {"id": row.id, "name": row.name}


@router.post("/{key}/inputs", status_code=201)
def record_input(
    key: str, data: schemas.InputIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    row = service.record_input(
        session,
        actor,
        plan_key=key,
        stage_key=data.stage,
        channel=data.channel,
        summary=data.summary,
        body=data.body,
        organisation=data.organisation,
        on_date=data.on_date,
    )
    return {"id": row.id, "channel": row.channel}


@router.post("/{key}/decisions", status_code=201)
def record_decision(
    key: str, data: schemas.DecisionIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Refused with every reason when the body may not decide, lacks quorum or breaks its rule."""
    row = service.record_decision(
        session,
        actor,
        plan_key=key,
        stage_key=data.stage,
        body=data.body,
        on_date=data.on_date,
        attendees=[a.model_dump() for a in data.attendees],
        outcome=data.outcome,
        votes_for=data.votes_for,
        votes_against=data.votes_against,
        consensus=data.consensus,
        chair_decided=data.chair_decided,
        minutes=data.minutes,
    )
    return {"id": row.id, "outcome": row.outcome, "quorum": row.quorum_report}


@router.get("/{key}/drafts")
def list_drafts(key: str, session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return [
        {
            "version": d.version,
            "title": d.title,
            "note": d.note,
            "created_at": d.created_at,
            "created_by": d.created_by,
        }
        for d in service.list_drafts(session, actor, key)
    ]


@router.post("/{key}/drafts", status_code=201)
def add_draft(
    key: str, data: schemas.DraftIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    draft = service.add_draft(
        session,
        actor,
        plan_key=key,
        title=data.title,
        note=data.note,
        sections=[s.model_dump() for s in data.sections],
    )
    return {"version": draft.version, "title": draft.title}


@router.get("/{key}/drafts/diff")
def diff_drafts(
    key: str,
    session: DbSession,
    actor: CurrentActor,
    old: Annotated[int, Query()],
    new: Annotated[int, Query()],
) -> dict[str, Any]:
    comparison = service.compare_drafts(session, actor, key, old, new)
    return {
        "old": old,
        "new": new,
        "headings": comparison.headings,
        "sections": [asdict(s) for s in comparison.sections],
    }


@router.get("/{key}/drafts/{version}")
def get_draft(key: str, version: int, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    draft = service.get_draft(session, actor, key, version)
    return {
        "version": draft.version,
        "title": draft.title,
        "note": draft.note,
        "sections": [{"key": s.key, "heading": s.heading, "text": s.text} for s in draft.sections],
    }


@router.post("/{key}/goals", status_code=201)
def add_goal(
    key: str, data: schemas.GoalIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    goal = service.add_goal(
        session,
        actor,
        plan_key=key,
        code=data.code,
        kind=data.kind,
        title=data.title,
        parent=data.parent,
        weight=data.weight,
        description=data.description,
    )
    return {"code": goal.code, "kind": goal.kind}


@router.get("/{key}/tasks")
def list_tasks(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    headers, rows = sheets.export_sheet(session, actor, key, "tasks")
    items = [dict(zip(headers, r, strict=True)) for r in rows]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@router.post("/{key}/tasks", status_code=201)
def add_task(
    key: str, data: schemas.TaskIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    task = service.add_task(
        session,
        actor,
        plan_key=key,
        code=data.code,
        title=data.title,
        goal=data.goal,
        lead_body=data.lead_body,
        supporting=data.supporting,
        weight=data.weight,
        budget_link=data.budget_link,
        description=data.description,
    )
    return service.task_snapshot(task) | {"code": task.code}


@router.get("/{key}/tasks/{code}")
def get_task(key: str, code: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return service.task_detail(session, actor, key, code)


@router.patch("/{key}/tasks/{code}")
def update_task(
    key: str, code: str, data: schemas.TaskUpdate, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Edit a task; send the version you read (409 with the current state if it changed)."""
    service.update_task(
        session,
        actor,
        plan_key=key,
        code=code,
        expected_version=data.version,
        changes=data.changes(),
    )
    return service.task_detail(session, actor, key, code)


@router.post("/{key}/tasks/{code}/milestones", status_code=201)
def add_milestone(
    key: str, code: str, data: schemas.MilestoneIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    m = service.add_milestone(
        session,
        actor,
        plan_key=key,
        task_code=code,
        code=data.code,
        title=data.title,
        due=data.due,
        weight=data.weight,
        completed_on=data.completed_on,
    )
    return {"code": m.code, "due": m.due}


@router.post("/{key}/tasks/{code}/milestones/{milestone}/complete")
def complete_milestone(
    key: str,
    code: str,
    milestone: str,
    data: schemas.CompleteIn,
    session: DbSession,
    actor: CurrentActor,
) -> dict[str, Any]:
    m = service.complete_milestone(
        session,
        actor,
        plan_key=key,
        task_code=code,
        code=milestone,
        completed_on=data.completed_on,
        expected_version=data.version,
    )
    return {"code": m.code, "completed_on": m.completed_on, "version": m.version}


@router.post("/{key}/tasks/{code}/progress", status_code=201)
def file_progress(
    key: str, code: str, data: schemas.ProgressIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    report = service.file_progress(
        session,
        actor,
        plan_key=key,
        task_code=code,
        period=data.period,
        percent_complete=data.percent_complete,
        narrative=data.narrative,
    )
    return {"period": report.period, "percent_complete": report.percent_complete}


@router.post("/{key}/indicators", status_code=201)
def add_indicator(
    key: str, data: schemas.IndicatorIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    ind = service.add_indicator(session, actor, plan_key=key, **data.model_dump())
    return {"code": ind.code}


@router.get("/{key}/indicators/{code}")
def get_indicator(key: str, code: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return service.indicator_detail(session, actor, key, code)


@router.post("/{key}/indicators/{code}/measurements", status_code=201)
def record_measurement(
    key: str, code: str, data: schemas.MeasurementIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    m = service.record_measurement(
        session,
        actor,
        plan_key=key,
        indicator=code,
        on_date=data.on_date,
        value=data.value,
        source=data.source,
    )
    return {"on_date": m.on_date, "value": m.value}


@router.get("/{key}/alignment")
def get_alignment(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    report = alignment(session, actor, key)
    return {
        "tasks_checked": report.tasks_checked,
        "aligned_share": report.aligned_share,
        "issues": [asdict(i) for i in report.issues],
    }


@router.get("/{key}/sheets/{sheet}.{fmt}")
def export_sheet(
    key: str, sheet: str, fmt: str, session: DbSession, actor: CurrentActor
) -> Response:
    """Tasks, milestones or indicator values as CSV or XLSX."""
    if fmt not in MEDIA_TYPES:
        raise ValidationFailed([("fmt", "use csv or xlsx")])
    headers, rows = sheets.export_sheet(session, actor, key, sheet)
    return Response(
        write_table(headers, rows, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{key}-{sheet}.{fmt}"'},
    )


@router.post("/{key}/sheets/{sheet}")
async def import_sheet(
    key: str,
    sheet: str,
    session: DbSession,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Import a CSV/XLSX sheet: every bad row is reported (422) and nothing is written."""
    data = await file.read()
    name = file.filename or "upload.csv"

    def run() -> dict[str, Any]:
        try:
            headers, rows = read_table(data, name)
        except TableError as exc:
            raise ValidationFailed([("file", str(exc))]) from None
        return asdict(sheets.import_sheet(session, actor, key, sheet, headers, rows))

    return await run_in_threadpool(run)
