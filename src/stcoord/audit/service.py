"""Writing and reading change records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import Actor, restrict
from stcoord.db.base import utcnow


def record_change(
    session: Session,
    actor: Actor,
    *,
    action: str,
    object_type: str,
    object_key: str,
    before: Any,
    after: Any,
    summary: str | None = None,
) -> AuditRecord:
    """Add an audit record to the session: it commits or rolls back with the change itself."""
    record = AuditRecord(
        actor_id=actor.user_id,
        actor_name=actor.username,
        request_id=actor.request_id,
        action=action,
        object_type=object_type,
        object_key=object_key,
        summary=summary,
        before=before,
        after=after,
    )
    session.add(record)
    return record


def record_changes(session: Session, changes: list[dict[str, Any]]) -> None:
    """Bulk :func:`record_change`: one executemany INSERT for many records (same columns).

    Each item holds ``actor`` and the keyword arguments of :func:`record_change`; the rows are
    the ones it would add, written when this is called (the consultation vote batcher)."""
    if not changes:
        return
    rows = []
    for c in changes:
        actor: Actor = c["actor"]
        rows.append(
            {
                "at": utcnow(),
                "actor_id": actor.user_id,
                "actor_name": actor.username,
                "request_id": actor.request_id,
                "action": c["action"],
                "object_type": c["object_type"],
                "object_key": c["object_key"],
                "summary": c.get("summary"),
                "before": c["before"],
                "after": c["after"],
            }
        )
    session.execute(insert(AuditRecord), rows)


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep only the keys whose values differ, for a compact before/after pair.

    >>> changed_fields({"a": 1, "b": 2}, {"a": 1, "b": 3})
    ({'b': 2}, {'b': 3})
    """
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def list_records(
    session: Session,
    actor: Actor,
    *,
    object_type: str | None = None,
    object_key: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditRecord], int]:
    """Audit records the actor may read, newest first, with the total count."""
    stmt = restrict(select(AuditRecord), actor, "audit.read", AuditRecord)
    if object_type:
        stmt = stmt.where(AuditRecord.object_type == object_type)
    if object_key:
        stmt = stmt.where(AuditRecord.object_key == object_key)
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
