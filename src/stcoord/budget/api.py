"""JSON routes of the budget domain under /api/v1/budget."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from stcoord.budget import classifications, datacalls, priorities, scenarios
from stcoord.budget.crosscut import crosscut
from stcoord.budget.unity import unity_check
from stcoord.errors import ValidationFailed
from stcoord.tabular import MEDIA_TYPES, TableError, read_table, write_table
from stcoord.web.dependencies import CurrentActor, DbSession, check_csrf

router = APIRouter(prefix="/budget", tags=["budget"], dependencies=[Depends(check_csrf)])
CSV_LIST = Query(description="Comma-separated, or repeat the parameter.")


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@router.get("/classifications")
def list_classifications(session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "name": c.name,
            "jurisdiction": c.jurisdiction_code,
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "fields": [
                {
                    "key": f.key,
                    "name": f.name,
                    "names": f.names,
                    "strategic_field": f.strategic_field,
                }
                for f in c.fields
            ],
        }
        for c in classifications.list_classifications(session, actor)
    ]


@router.post("/classifications")
async def load_classification(
    request: Request, session: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """Create or update a classification from a ``stcoord-classification/1`` YAML body."""
    text = (await request.body()).decode("utf-8", errors="replace")

    def load() -> dict[str, Any]:
        spec = classifications.parse_classification(text, request.headers.get("x-filename", ""))
        return asdict(classifications.load_classification(session, actor, spec))

    return await run_in_threadpool(load)


@router.get("/crosscut")
def get_crosscut(
    session: DbSession,
    actor: CurrentActor,
    jurisdiction: str,
    by: Annotated[list[str], CSV_LIST],
    phase: str = "enacted",
    classification: str | None = None,
    years: Annotated[list[int] | None, Query()] = None,
    agencies: Annotated[list[str] | None, CSV_LIST] = None,
    fields: Annotated[list[str] | None, CSV_LIST] = None,
) -> dict[str, Any]:
    """Amounts grouped by agency, field, year and/or program for one phase, with growth and
    shares of each year's total."""
    result = crosscut(
        session,
        actor,
        jurisdiction=jurisdiction.upper(),
        by=_split(by),
        phase=phase,
        classification=classification,
        years=years,
        agencies=_split(agencies),
        fields=_split(fields),
    )
    return {
        "jurisdiction": result.jurisdiction,
        "by": list(result.by),
        "phase": result.phase,
        "classification": result.classification,
        "total": result.total,
        "rows": [
            {**r.keys, "amount": r.amount, "share_of_year": r.share_of_year, "growth": r.growth}
            for r in result.rows
        ],
    }


@router.get("/unity")
def get_unity(
    session: DbSession,
    actor: CurrentActor,
    jurisdiction: str,
    classification: str,
    year: int,
    phase: str = "enacted",
) -> list[dict[str, Any]]:
    """Per field: money steered by the coordinating body against the total."""
    return [
        {**asdict(r), "steered_share": r.steered_share}
        for r in unity_check(
            session,
            actor,
            jurisdiction=jurisdiction.upper(),
            classification=classification,
            fiscal_year=year,
            phase=phase,
        )
    ]


class DataCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    jurisdiction: str
    fiscal_year: int
    classification: str
    title: str
    currency: str = Field(min_length=3, max_length=3)
    agencies: list[str]
    due: dt.date | None = None


@router.post("/datacalls", status_code=201)
def open_data_call(data: DataCallIn, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    call = datacalls.open_data_call(
        session,
        actor,
        key=data.key,
        jurisdiction=data.jurisdiction.upper(),
        fiscal_year=data.fiscal_year,
        classification=data.classification,
        title=data.title,
        currency=data.currency.upper(),
        agencies=data.agencies,
        due=data.due,
    )
    return {"key": call.key, "agencies": len(call.submissions)}


@router.get("/datacalls/{key}")
def get_data_call(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The call and each agency's submission status."""
    call = datacalls.get_data_call(session, actor, key)
    return {
        "key": call.key,
        "title": call.title,
        "fiscal_year": call.fiscal_year,
        "currency": call.currency,
        "due": call.due,
        "status": call.status,
        "submissions": [asdict(s) for s in datacalls.submission_status(session, actor, key)],
    }


@router.get("/datacalls/{key}/template/{agency}.{fmt}")
def get_template(
    key: str, agency: str, fmt: str, session: DbSession, actor: CurrentActor
) -> Response:
    if fmt not in MEDIA_TYPES:
        raise ValidationFailed([("fmt", "use csv or xlsx")])
    headers, rows = datacalls.template(session, actor, key, agency)
    return Response(
        write_table(headers, rows, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{key}-{agency}.{fmt}"'},
    )


@router.post("/datacalls/{key}/submissions/{agency}")
async def upload(
    key: str,
    agency: str,
    session: DbSession,
    actor: CurrentActor,
    file: Annotated[UploadFile, File()],
    stated_total: Annotated[Decimal | None, Form()] = None,
) -> dict[str, Any]:
    """Upload the filled template: 422 lists every bad row and column, nothing is written."""
    data = await file.read()
    name = file.filename or "upload.csv"

    def run() -> dict[str, Any]:
        try:
            headers, rows = read_table(data, name)
        except TableError as exc:
            raise ValidationFailed([("file", str(exc))]) from None
        return asdict(
            datacalls.upload(
                session,
                actor,
                key=key,
                agency_code=agency,
                headers=headers,
                rows=rows,
                stated_total=stated_total,
            )
        )

    return await run_in_threadpool(run)


class PrioritiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str
    classification: str
    fiscal_year: int
    method: str = Field(description="direct or ahp")
    weights: dict[str, float] | None = None
    judgements: list[tuple[str, str, float | str]] | None = None
    items: list[str] | None = None
    memo: str | None = None


def _priorities_view(row: Any) -> dict[str, Any]:
    return {
        "key": row.key,
        "title": row.title,
        "fiscal_year": row.fiscal_year,
        "method": row.method,
        "weights": row.weights,
        "judgements": row.judgements,
        "consistency_ratio": row.consistency_ratio,
        "warning": priorities.consistency_warning(row),
        "memo": row.memo,
        "version": row.version,
    }


@router.get("/priorities")
def list_priorities(session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return [_priorities_view(p) for p in priorities.list_priorities(session, actor)]


@router.post("/priorities", status_code=201)
def set_priorities(data: PrioritiesIn, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Direct weights, or AHP judgements (a, b, value) with Saaty's consistency ratio."""
    row = priorities.set_priorities(
        session,
        actor,
        key=data.key,
        title=data.title,
        classification=data.classification,
        fiscal_year=data.fiscal_year,
        method=data.method,
        weights=data.weights,
        judgements=[list(j) for j in data.judgements or []],
        items=data.items,
        memo=data.memo,
    )
    return _priorities_view(row)


@router.get("/priorities/{key}")
def get_priorities(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return _priorities_view(priorities.get_priorities(session, actor, key))


class ScenarioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str
    priorities: str
    base_year: int
    envelope: float
    band: float = Field(default=0.10, ge=0, le=1)
    spend_all: bool = False
    min_shares: dict[str, float] | None = None
    field_capacity: dict[str, float] | None = None
    agency_floor: dict[str, float] | None = None
    agency_ceiling: dict[str, float] | None = None
    phase: str = "enacted"
    solver: str = "highs"


@router.get("/scenarios")
def list_scenarios(session: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    return [
        {
            "key": s.key,
            "title": s.title,
            "envelope": float(s.envelope),
            "status": s.result.get("status"),
            "objective": s.result.get("objective"),
        }
        for s in scenarios.list_scenarios(session, actor)
    ]


@router.post("/scenarios", status_code=201)
def run_scenario(data: ScenarioIn, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Solve and save an allocation: binding constraints, shadow prices, or the conflict."""
    params = data.model_dump(exclude={"key", "title", "priorities", "solver"})
    row = scenarios.run_scenario(
        session,
        actor,
        key=data.key,
        title=data.title,
        priorities=data.priorities,
        parameters=scenarios.ScenarioParameters(**params),
        solver=data.solver,
    )
    return {"key": row.key, "parameters": row.parameters, "result": row.result}


@router.get("/scenarios/compare")
def compare_scenarios(
    session: DbSession, actor: CurrentActor, keys: Annotated[list[str], CSV_LIST]
) -> dict[str, Any]:
    return scenarios.compare(session, actor, _split(keys))


@router.get("/scenarios/{key}")
def get_scenario(key: str, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    row = scenarios.get_scenario(session, actor, key)
    return {"key": row.key, "title": row.title, "parameters": row.parameters, "result": row.result}
