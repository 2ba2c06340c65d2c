"""JSON routes of consultations under /api/v1/consultations.

Lists take ``limit``/``offset``/``sort`` (``-column`` descending) and their filters, and with
``?format=csv`` or ``?format=xlsx`` return every matching row as a spreadsheet.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

import stcoord.flows  # noqa: F401  (the plan engine's gate sees consultation facts)
from stcoord.auth.permissions import require
from stcoord.consultation import dashboard, delphi, schemas, service
from stcoord.consultation.polis_format import read_export
from stcoord.consultation.polis_import import import_export, import_summary
from stcoord.errors import ValidationFailed
from stcoord.tabular import MEDIA_TYPES, write_table
from stcoord.web import vote_batcher
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf
from stcoord.web.pagination import PageParams, page_params, slice_page, sort_rows

router = APIRouter(
    prefix="/consultations", tags=["consultations"], dependencies=[Depends(check_csrf)]
)
Paging = Annotated[PageParams, Depends(page_params)]
# The vote route on its own router, included first by web/app.py: FastAPI matches routes in
# order (~1 ms per request when the vote route came after ~350 others); votes are the hot path.
vote_router = APIRouter(
    prefix="/consultations", tags=["consultations"], dependencies=[Depends(check_csrf)]
)


def boxed(value: Any) -> Any:
    """A sort key that survives ``sort_rows``'s ``key or ""`` (which turns 0 into "")."""
    return None if value is None else (value,)


def sort_keys(columns: Sequence[str]) -> dict[str, Any]:
    """Sort keys of plain-dict rows by column name."""
    return {c: (lambda item, c=c: boxed(item.get(c))) for c in columns}


def listing(
    items: list[dict[str, Any]],
    columns: Sequence[str],
    paging: PageParams,
    fmt: str | None,
    filename: str,
) -> Any:
    """Sort, then either one page as JSON or every row as CSV/XLSX."""
    rows = sort_rows(items, paging.sort, sort_keys(columns))
    if fmt:
        if fmt not in MEDIA_TYPES:
            raise ValidationFailed([("format", "use csv or xlsx")])
        return Response(
            write_table(columns, ([r.get(c) for c in columns] for r in rows), fmt),
            media_type=MEDIA_TYPES[fmt],
            headers={"content-disposition": f'attachment; filename="{filename}.{fmt}"'},
        )
    shown, total = slice_page(rows, paging)
    return {"items": shown, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("")
def list_consultations(
    session: DbSession,
    actor: CurrentActor,
    paging: Paging,
    plan: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    format: str | None = None,
) -> Any:
    rows = service.list_consultations(session, actor, plan_key=plan, status=status, kind=kind)
    items = [schemas.consultation_row(r) for r in rows]
    return listing(items, schemas.CONSULTATION_COLUMNS, paging, format, "consultations")


@router.post("", status_code=201)
def create_consultation(
    data: schemas.ConsultationCreate, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    c = service.create_consultation(
        session,
        actor,
        key=data.key,
        plan_key=data.plan,
        stage_key=data.stage,
        kind=data.kind,
        title=data.title,
        channels=data.channels,
        description=data.description,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
        draft_version=data.draft_version,
        settings=data.settings,
    )
    plan_key, stage = service.stage_of(session, c)
    return schemas.consultation_view(c, plan_key, stage.key)


@router.get("/{key}")
def get_consultation(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    c = service.get_consultation(session, actor, key)
    plan_key, stage = service.stage_of(session, c)
    view = schemas.consultation_view(c, plan_key, stage.key)
    view["sections"] = [
        {"key": s.key, "heading": s.heading, "text": s.text} for s in service.sections(session, c)
    ]
    me = service.my_participant(session, actor, c)
    view["me"] = service.participant_snapshot(me) if me else None
    return view


@router.post("/{key}/status")
def set_status(
    key: str, data: schemas.StatusIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    c = service.set_status(
        session, actor, key=key, status=data.status, expected_version=data.expected_version
    )
    return {"key": c.key, "status": c.status, "version": c.version}


@router.post("/{key}/participants", status_code=201)
def register(
    key: str, data: schemas.ParticipantIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Take part (the signed-in user) with a sector and organisation; the office may register
    someone else by ``handle``."""
    p = service.register(
        session,
        actor,
        key=key,
        sector=data.sector,
        organisation=data.organisation,
        display_name=data.display_name,
        handle=data.handle,
    )
    return service.participant_snapshot(p)


@router.get("/{key}/comments")
def list_comments(
    key: str,
    session: DbSession,
    actor: CurrentActor,
    paging: Paging,
    section: str | None = None,
    sector: str | None = None,
    answered: bool | None = None,
    format: str | None = None,
) -> Any:
    rows = service.list_comments(
        session, actor, key=key, section=section, sector=sector, answered=answered
    )
    items = [schemas.comment_row(r) for r in rows]
    return listing(items, schemas.COMMENT_COLUMNS, paging, format, f"{key}-comments")


@router.post("/{key}/comments", status_code=201)
def add_comment(
    key: str, data: schemas.CommentIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    c = service.add_comment(
        session,
        actor,
        key=key,
        text=data.text,
        section_key=data.section,
        participant=data.participant,
    )
    return {"id": c.id, "section": c.section_key, "text": c.text}


@router.put("/{key}/comments/{comment_id}/disposition")
def answer_comment(
    key: str,
    comment_id: int,
    data: schemas.DispositionIn,
    session: DbSession,
    actor: CurrentActor,
) -> dict[str, Any]:
    d = service.answer_comment(
        session,
        actor,
        key=key,
        comment_id=comment_id,
        outcome=data.outcome,
        reason=data.reason,
        expected_version=data.expected_version,
    )
    return {"comment": comment_id, "outcome": d.outcome, "reason": d.reason, "version": d.version}


@router.get("/{key}/statements")
def list_statements(
    key: str,
    session: DbSession,
    actor: CurrentActor,
    paging: Paging,
    hidden: bool = False,
    format: str | None = None,
) -> Any:
    """Statements with vote counts (``hidden=true``: with moderated ones, for the office)."""
    c = service.get_consultation(session, actor, key)
    me = service.my_participant(session, actor, c)
    rows = service.list_statements(
        session, actor, key=key, include_hidden=hidden, for_participant=me
    )
    items = [schemas.statement_row(r) for r in rows]
    return listing(items, schemas.STATEMENT_COLUMNS, paging, format, f"{key}-statements")


@router.post("/{key}/statements", status_code=201)
def add_statement(
    key: str, data: schemas.StatementIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    s = service.add_statement(session, actor, key=key, text=data.text, participant=data.participant)
    return {"number": s.number, "text": s.text}


@vote_router.put("/{key}/statements/{number}/vote")
async def vote(key: str, number: int, data: schemas.VoteIn, request: Request) -> dict[str, Any]:
    """Agree (1), disagree (-1) or pass (0); voting again changes the vote.

    Recorded by the app's vote batcher (group commit, ``web/vote_batcher.py``): the
    credential is checked, the vote and its audit record written and committed in the batch's
    transaction before this answers."""
    vote = vote_batcher.VoteIn(key, number, data.value, data.participant)
    v = (await vote_batcher.cast(request, vote)).unwrap()
    return {"statement": v.statement, "value": v.value}


@router.post("/{key}/moderation")
def moderate(
    key: str, data: schemas.ModerationIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    obj = service.moderate(
        session,
        actor,
        key=key,
        target=data.target,
        ident=data.id,
        hidden=data.hidden,
        reason=data.reason,
    )
    return {"target": data.target, "id": data.id, "hidden": obj.hidden, "reason": obj.hidden_reason}


@router.get("/{key}/dashboard")
def get_dashboard(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Who was heard by sector against the stage's channels, the gate, opinion groups,
    representative statements, consensus, divisive statements, agreement by sector."""
    return dashboard.dashboard_json(dashboard.dashboard(session, actor, key))


@router.post("/{key}/import")
async def import_polis(
    key: str,
    session: DbSession,
    actor: CurrentActor,
    files: Annotated[list[UploadFile], File(description="Polis export CSV files")],
    sector: Annotated[str, Form()] = "individual",
) -> dict[str, Any]:
    """Import a Polis export (comments.csv, votes.csv, participants-votes.csv...)."""
    require(actor, "consultation.manage")
    contents = [(Path(f.filename or "upload.csv").name, await f.read()) for f in files]

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in contents:
                (Path(tmp) / name).write_bytes(data)
            try:
                export = read_export(tmp)
            except FileNotFoundError as exc:
                raise ValidationFailed([("files", str(exc).replace(tmp, "upload"))]) from None
        result = import_export(session, actor, key=key, export=export, sector=sector)
        return import_summary(result)

    return await run_in_threadpool(run)


# ---------------------------------------------------------------- Delphi


@router.get("/{key}/delphi")
def delphi_state(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Rounds with their statistics, the open round, and the feedback raters see."""
    return delphi.state_json(delphi.state(session, actor, key=key))


@router.post("/{key}/delphi/rounds", status_code=201)
def open_round(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    r = delphi.open_round(session, actor, key=key)
    return {"round": r.number, "status": r.status}


@router.post("/{key}/delphi/rounds/close")
def close_round(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    r = delphi.close_round(session, actor, key=key)
    return {"round": r.number, "status": r.status, "summary": r.summary}


@router.put("/{key}/delphi/ratings/{number}")
def rate(
    key: str, number: int, data: schemas.RatingIn, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    r = delphi.rate(
        session,
        actor,
        key=key,
        statement=number,
        value=data.value,
        rationale=data.rationale,
        participant=data.participant,
    )
    return {"statement": number, "value": r.value}
