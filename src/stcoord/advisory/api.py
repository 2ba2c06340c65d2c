"""JSON routes of advisory reports and recommendations under /api/v1/advisory."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from stcoord.advisory import schemas, service
from stcoord.advisory.tracker import tracker_data, tracker_json
from stcoord.errors import ValidationFailed
from stcoord.tabular import MEDIA_TYPES, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf
from stcoord.web.pagination import PageParams, page_params, slice_page, sort_rows

router = APIRouter(prefix="/advisory", tags=["advisory"], dependencies=[Depends(check_csrf)])
Paging = Annotated[PageParams, Depends(page_params)]
# The tracker's filters as the query parameters body, jurisdiction, report, status, position.
Filters = Annotated[service.TrackerFilter, Depends()]
REC = "/reports/{key}/recommendations/{number}"


@router.get("/bodies")
def list_bodies(
    session: DbSession, actor: CurrentActor, jurisdiction: str | None = None
) -> list[dict[str, Any]]:
    """Bodies that may file advisory reports, and whether you may file for each."""
    writable = {b.id for b in service.writable_bodies(session, actor)}
    return [
        {
            "jurisdiction": b.jurisdiction.code,
            "key": b.key,
            "name": b.name,
            "names": b.names,
            "level": b.level,
            "may_file": b.id in writable,
        }
        for b in service.advisory_bodies(session, actor, jurisdiction)
    ]


@router.get("/adoption")
def adoption(
    session: DbSession, actor: CurrentActor, jurisdiction: str | None = None
) -> list[dict[str, Any]]:
    """Per advisory body: how many recommendations were accepted (fully, in part), rejected,
    unanswered, and how many are open, partly or fully addressed, with the shares."""
    return [a.as_dict() for a in service.adoption(session, actor, jurisdiction=jurisdiction)]


@router.get("/reports")
def list_reports(
    session: DbSession,
    actor: CurrentActor,
    paging: Paging,
    body: str | None = None,
    jurisdiction: str | None = None,
) -> dict[str, Any]:
    rows = service.list_reports(session, actor, body=body, jurisdiction=jurisdiction)
    rows = sort_rows(
        rows,
        paging.sort,
        {
            "key": lambda r: r.key,
            "published_on": lambda r: r.published_on,
            "body": lambda r: (r.jurisdiction_code, r.body_key),
            "title": lambda r: r.title,
        },
    )
    shown, total = slice_page(rows, paging)
    items = [schemas.report_view(r) for r in shown]
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.post("/reports", status_code=201)
def file_report(
    data: schemas.ReportCreate, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    report = service.file_report(
        session,
        actor,
        code=data.jurisdiction,
        body=data.body,
        key=data.key,
        title=data.title,
        published_on=data.published_on,
        url=data.url,
        source=data.source,
        summary=data.summary,
        names=data.names,
        unverified=data.unverified,
    )
    return schemas.report_view(report)


@router.get("/reports/{key}")
def get_report(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return schemas.report_view(service.get_report(session, actor, key), recommendations=True)


@router.patch("/reports/{key}")
def update_report(
    key: str, data: schemas.ReportUpdate, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Edit a report; send the ``version`` you read (409 with the current state if stale)."""
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    report = service.update_report(
        session, actor, key=key, expected_version=data.version, changes=changes
    )
    return schemas.report_view(report)


@router.post("/reports/{key}/recommendations", status_code=201)
def add_recommendation(
    key: str, data: schemas.RecommendationCreate, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    rec = service.add_recommendation(
        session,
        actor,
        report_key=key,
        number=data.number,
        text=data.text,
        addressed_to=data.addressed_to,
    )
    return schemas.recommendation_view(rec)


@router.post("/reports/{key}/recommendations/import")
async def import_recommendations(
    key: str, session: DbSession, actor: CurrentActor, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    """CSV/XLSX with columns number, text, addressed_to (body keys separated by ';').
    A 422 lists every bad row and column; nothing is written then."""
    data = await file.read()
    name = file.filename or "upload.csv"

    def run() -> dict[str, Any]:
        result = service.import_recommendations(
            session, actor, report_key=key, data=data, filename=name
        )
        return asdict(result)

    return await run_in_threadpool(run)


def _detail(session: Any, actor: Any, key: str, number: str) -> dict[str, Any]:
    rows = service.tracker_rows(session, actor, service.TrackerFilter(report=key))
    row = next((r for r in rows if r.rec.number == number), None)
    rec = service.get_recommendation(session, actor, key, number)
    return schemas.recommendation_view(rec, tasks=row.tasks if row else [], history=True)


@router.get(REC)
def get_recommendation(
    key: str, number: str, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """A recommendation with every response, its status history and linked tasks."""
    return _detail(session, actor, key, number)


@router.patch(REC)
def update_recommendation(
    key: str,
    number: str,
    data: schemas.RecommendationUpdate,
    session: DbSession,
    actor: CurrentActor,
) -> dict[str, Any]:
    service.update_recommendation(
        session,
        actor,
        report_key=key,
        number=number,
        expected_version=data.version,
        text=data.text,
        addressed_to=data.addressed_to,
    )
    return _detail(session, actor, key, number)


@router.post(REC + "/responses", status_code=201)
def respond(
    key: str, number: str, data: schemas.ResponseIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Record the government's response (accept, partly_accept, reject, under_consideration)."""
    service.respond(
        session,
        actor,
        report_key=key,
        number=number,
        position=data.position,
        text=data.text,
        on_date=data.on_date,
        responding_body=data.responding_body,
        expected_version=data.version,
    )
    return _detail(session, actor, key, number)


@router.post(REC + "/status", status_code=201)
def set_status(
    key: str, number: str, data: schemas.StatusIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Move the recommendation to open / partly_addressed / fully_addressed with the benefit."""
    service.set_status(
        session,
        actor,
        report_key=key,
        number=number,
        status=data.status,
        on_date=data.on_date,
        benefit=data.benefit,
        benefit_amount=data.benefit_amount,
        benefit_currency=data.benefit_currency,
        evidence=data.evidence,
        note=data.note,
        expected_version=data.version,
    )
    return _detail(session, actor, key, number)


@router.post(REC + "/tasks", status_code=201)
def link_task(
    key: str, number: str, data: schemas.TaskLinkIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    service.link_task(
        session,
        actor,
        report_key=key,
        number=number,
        plan_key=data.plan,
        task_code=data.task,
        expected_version=data.version,
    )
    return _detail(session, actor, key, number)


@router.delete(REC + "/tasks/{plan}/{task}")
def unlink_task(
    key: str,
    number: str,
    plan: str,
    task: str,
    session: DbSession,
    actor: CurrentActor,
    version: int | None = None,
) -> dict[str, Any]:
    service.unlink_task(
        session,
        actor,
        report_key=key,
        number=number,
        plan_key=plan,
        task_code=task,
        expected_version=version,
    )
    return _detail(session, actor, key, number)


@router.get("/recommendations")
def list_recommendations(
    session: DbSession, actor: CurrentActor, filters: Filters, paging: Paging
) -> dict[str, Any]:
    """The tracker: every recommendation with its response, status, benefit and tasks.
    Filter by body (CODE:key), jurisdiction, report, status, position (``none``: unanswered);
    sort by body, report, published_on, number, status, position, status_on, benefit_amount."""
    keys = service.tracker_keys(session, actor, filters)
    page, total = slice_page(sort_rows(keys, paging.sort, service.TRACKER_SORTS), paging)
    rows = service.tracker_rows_for(session, actor, [k.id for k in page])
    items = [schemas.tracker_view(r) for r in rows]
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("/recommendations.{fmt}")
def export_recommendations(
    fmt: str, session: DbSession, actor: CurrentActor, filters: Filters, sort: str | None = None
) -> Response:
    """The filtered tracker as CSV or XLSX (every row, no paging)."""
    if fmt not in MEDIA_TYPES:
        raise ValidationFailed([("fmt", "use csv or xlsx")])
    rows = sort_rows(service.tracker_rows(session, actor, filters), sort, service.TRACKER_SORTS)
    data = write_table(schemas.TRACKER_COLUMNS, [schemas.tracker_cells(r) for r in rows], fmt)
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="advisory-tracker.{fmt}"'},
    )


@router.get("/tracker")
def tracker(
    session: DbSession,
    actor: CurrentActor,
    body: str | None = None,
    jurisdiction: str | None = None,
) -> dict[str, Any]:
    """The advisory tracker report as data: per body its adoption, per report each
    recommendation with its response, status, linked tasks and benefit."""
    filters = service.TrackerFilter(body=body, jurisdiction=jurisdiction)
    return tracker_json(tracker_data(session, actor, filters))


@router.get("/tasks/{plan}/{task}/recommendations")
def task_recommendations(
    plan: str, task: str, session: DbSession, actor: CurrentActor
) -> list[dict[str, Any]]:
    """The recommendations a plan task carries out."""
    recs = service.recommendations_for_task(session, actor, plan_key=plan, task_code=task)
    return [schemas.recommendation_view(r) for r in recs]
