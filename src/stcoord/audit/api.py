"""JSON route for reading the audit trail (each reader sees what the policy lets them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from stcoord.audit.service import list_records
from stcoord.auth.permissions import require
from stcoord.web.dependencies import CurrentActor, DbSession
from stcoord.web.pagination import Page, PageParams, page_params

router = APIRouter(tags=["audit"])


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_name: str
    request_id: str | None
    action: str
    object_type: str
    object_key: str
    summary: str | None
    before: Any
    after: Any


@router.get("/audit", response_model=Page[AuditRead])
def audit_records(
    session: DbSession,
    actor: CurrentActor,
    paging: Annotated[PageParams, Depends(page_params)],
    object_type: str | None = None,
    object_key: str | None = None,
    action: str | None = None,
) -> dict[str, Any]:
    require(actor, "audit.read")
    rows, total = list_records(
        session,
        actor,
        object_type=object_type,
        object_key=object_key,
        action=action,
        limit=paging.limit,
        offset=paging.offset,
    )
    return {
        "items": [AuditRead.model_validate(r) for r in rows],
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
    }
