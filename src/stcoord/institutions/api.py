"""JSON routes of the mechanism registry under /api/v1."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from stcoord.auth.permissions import require
from stcoord.institutions import service
from stcoord.institutions.diagnosis import compare_jurisdictions, diagnose_jurisdiction
from stcoord.institutions.mechanism_file import dump_mechanism, parse_mechanism
from stcoord.institutions.schemas import (
    BodyDetailRead,
    BodySummaryRead,
    BodyUpdate,
    JurisdictionSummaryRead,
    LoadResultRead,
    RelationRead,
)
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf
from stcoord.web.pagination import Page, PageParams, page_params, slice_page, sort_rows
from stcoord.web.read_cache import cached_read, json_response

router = APIRouter(tags=["mechanisms"], dependencies=[Depends(check_csrf)])
Paging = Annotated[PageParams, Depends(page_params)]
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


@router.get("/mechanisms", response_model=Page[JurisdictionSummaryRead])
def list_mechanisms(
    request: Request, session: DbSession, actor: CurrentActor, paging: Paging
) -> Response:
    """Jurisdictions with the counts of their bodies, seats, mandates and relations."""

    def build() -> Response:
        rows = sort_rows(
            service.list_jurisdictions(session, actor),
            paging.sort,
            {"code": lambda r: r.code, "name": lambda r: r.name, "bodies": lambda r: r.bodies},
        )
        items, total = slice_page(rows, paging)
        page = {
            "items": [asdict(r) for r in items],
            "total": total,
            "limit": paging.limit,
            "offset": paging.offset,
        }
        return json_response(Page[JurisdictionSummaryRead].model_validate(page))

    return cached_read(request, session, actor, build)


@router.post(
    "/mechanisms",
    response_model=LoadResultRead,
    status_code=200,
    openapi_extra={
        "requestBody": {
            "content": {"application/yaml": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
async def load_mechanism(request: Request, session: DbSession, actor: CurrentActor) -> Any:
    """Load a mechanism file (YAML body). A bad file changes nothing; 422 lists every problem."""
    require(actor, "mechanism.write")
    text = (await request.body()).decode("utf-8", errors="replace")
    name = request.headers.get("x-filename", "<request body>")

    def load() -> dict[str, Any]:
        spec = parse_mechanism(text, name)
        return asdict(service.load_mechanism(session, actor, spec))

    return await run_in_threadpool(load)


@router.get("/mechanisms/{code}")
def get_mechanism(request: Request, code: str, session: DbSession, actor: CurrentActor) -> Response:
    """The whole mechanism in the file format's shape (JSON)."""

    def build() -> Response:
        return json_response(service.export_mechanism(session, actor, code))

    return cached_read(request, session, actor, build)


@router.get(
    "/mechanisms/{code}/export",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
def export_mechanism(code: str, session: DbSession, actor: CurrentActor) -> Response:
    """The mechanism as a YAML file that loads back to the same state."""
    text = dump_mechanism(service.export_mechanism(session, actor, code))
    return Response(
        text,
        media_type="application/yaml",
        headers={"content-disposition": f'attachment; filename="{code.lower()}.yaml"'},
    )


@router.get("/mechanisms/{code}/bodies", response_model=Page[BodySummaryRead])
def list_bodies(
    request: Request,
    code: str,
    session: DbSession,
    actor: CurrentActor,
    paging: Paging,
    level: str | None = None,
    kind: str | None = None,
    q: Annotated[str | None, Query(description="Search name, short name or key.")] = None,
) -> Response:
    def build() -> Response:
        rows, total = service.list_bodies(
            session,
            actor,
            code,
            level=level,
            kind=kind,
            q=q,
            sort=paging.sort,
            limit=paging.limit,
            offset=paging.offset,
        )
        page = {
            "items": [asdict(r) for r in rows],
            "total": total,
            "limit": paging.limit,
            "offset": paging.offset,
        }
        return json_response(Page[BodySummaryRead].model_validate(page))

    return cached_read(request, session, actor, build)


def _body_detail(session: DbSession, code: str, body: Any) -> dict[str, Any]:
    key_of = service.body_keys(session, body.jurisdiction_id)
    rels = service.body_relations(session, body)

    def rel(r: Any) -> RelationRead:
        return RelationRead(
            type=r.type,
            from_body=key_of[r.from_body_id],
            to_body=key_of[r.to_body_id],
            description=r.description,
        )

    spec = service.body_spec(body, key_of)
    return BodyDetailRead(
        jurisdiction=code.upper(),
        body=spec.model_dump(mode="json"),
        version=body.version,
        outgoing=[rel(r) for r in rels.outgoing],
        incoming=[rel(r) for r in rels.incoming],
        children=[c.key for c in rels.children],
    ).model_dump()


@router.get("/mechanisms/{code}/bodies/{key}", response_model=BodyDetailRead)
def get_body(
    request: Request, code: str, key: str, session: DbSession, actor: CurrentActor
) -> Response:
    """One body: seats, composition and decision rules, mandates, relations, children."""

    def build() -> Response:
        body = service.get_body(session, actor, code, key)
        return json_response(BodyDetailRead.model_validate(_body_detail(session, code, body)))

    return cached_read(request, session, actor, build)


@router.patch("/mechanisms/{code}/bodies/{key}", response_model=BodyDetailRead)
def update_body(
    code: str, key: str, update: BodyUpdate, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Edit a body's descriptive facts; send the version you read (409 if it changed since)."""
    body = service.update_body(
        session,
        actor,
        code=code,
        key=key,
        expected_version=update.version,
        changes=update.changes(),
    )
    return _body_detail(session, code, body)


@router.get("/mechanisms/{code}/diagnosis")
def get_diagnosis(
    code: str,
    session: DbSession,
    actor: CurrentActor,
    field: Annotated[str, Query(description="Strategic field key, e.g. ai.")],
) -> dict[str, Any]:
    """The four findings for one field, each with verdict, evidence and gaps."""
    return asdict(diagnose_jurisdiction(session, actor, code, field))


@router.get("/compare")
def compare(
    session: DbSession,
    actor: CurrentActor,
    field: Annotated[str, Query()],
    codes: Annotated[list[str], Query(min_length=2, description="Two or more codes.")],
) -> dict[str, Any]:
    """Several jurisdictions' diagnoses side by side."""
    flat = [c.strip().upper() for item in codes for c in item.split(",") if c.strip()]
    comparison = compare_jurisdictions(session, actor, flat, field)
    return {
        "field": comparison.field,
        "codes": list(comparison.codes),
        "rows": comparison.rows(),
        "diagnoses": [asdict(d) for d in comparison.diagnoses],
    }
