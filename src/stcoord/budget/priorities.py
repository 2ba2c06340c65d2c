"""Priority sets over the fields of a classification: direct weights or AHP judgements, with the
priorities memo as a document beside them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.analytics.ahp import (
    Priorities,
    PriorityInputError,
    ahp_from_judgements,
    direct_priorities,
)
from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.budget.classifications import get_classification
from stcoord.budget.models import PrioritySet
from stcoord.errors import Conflict, NotFound, ValidationFailed


def compute(
    method: str,
    fields: list[str],
    weights: dict[str, float] | None,
    judgements: list[Any] | None,
) -> Priorities:
    """Direct weights or AHP over ``fields``; every problem is reported at once."""
    try:
        if method == "direct":
            unknown = sorted(set(weights or {}) - set(fields))
            if unknown:
                raise PriorityInputError([f"unknown field {f!r}" for f in unknown])
            return direct_priorities(weights or {})
        if method == "ahp":
            return ahp_from_judgements(fields, [tuple(j) for j in judgements or []])
    except PriorityInputError as exc:
        raise ValidationFailed([("priorities", p) for p in exc.problems]) from None
    raise ValidationFailed([("method", "use direct or ahp")])


def set_priorities(
    session: Session,
    actor: Actor,
    *,
    key: str,
    title: str,
    classification: str,
    fiscal_year: int,
    method: str,
    weights: dict[str, float] | None = None,
    judgements: list[Any] | None = None,
    items: list[str] | None = None,
    memo: str | None = None,
) -> PrioritySet:
    """Create a priority set. For AHP, ``items`` are the fields compared (default: all)."""
    require(actor, "budget.manage")
    scheme = get_classification(session, classification)
    all_fields = [f.key for f in scheme.fields]
    compared = items or all_fields
    unknown = [f for f in compared if f not in all_fields]
    if unknown:
        raise ValidationFailed([("items", f"unknown field {f!r}") for f in unknown])
    if session.scalar(select(PrioritySet.id).where(PrioritySet.key == key)) is not None:
        raise Conflict(f"a priority set {key!r} already exists")
    result = compute(method, compared, weights, judgements)
    row = PrioritySet(
        key=key,
        title=title,
        classification_id=scheme.id,
        fiscal_year=fiscal_year,
        method=method,
        weights=result.weights,
        judgements=[list(j) for j in judgements or []],
        consistency_ratio=result.consistency.ratio if result.consistency else None,
        memo=memo,
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        actor,
        action="priorities.set",
        object_type="priority_set",
        object_key=key,
        before=None,
        after={
            "method": method,
            "weights": result.weights,
            "consistency_ratio": row.consistency_ratio,
        },
    )
    return row


def consistency_warning(row: PrioritySet) -> str | None:
    if row.consistency_ratio is not None and row.consistency_ratio > 0.1:
        return (
            f"consistency ratio {row.consistency_ratio:.3f} is above 0.1: "
            "revisit the pairwise judgements"
        )
    return None


def get_priorities(session: Session, actor: Actor, key: str) -> PrioritySet:
    require(actor, "budget.read")
    row = session.scalar(select(PrioritySet).where(PrioritySet.key == key))
    if row is None:
        raise NotFound(f"no priority set {key!r}")
    return row


def list_priorities(session: Session, actor: Actor) -> list[PrioritySet]:
    require(actor, "budget.read")
    return list(session.scalars(select(PrioritySet).order_by(PrioritySet.key)).all())


def update_memo(
    session: Session, actor: Actor, *, key: str, expected_version: int, memo: str
) -> PrioritySet:
    """Edit the priorities memo; a stale version is a conflict."""
    require(actor, "budget.manage")
    row = get_priorities(session, actor, key)
    if row.version != expected_version:
        raise Conflict(
            f"priority set {key!r} was changed by someone else",
            current={"memo": row.memo, "version": row.version},
        )
    before = {"memo": row.memo}
    row.memo, row.version = memo, row.version + 1
    record_change(
        session,
        actor,
        action="priorities.memo",
        object_type="priority_set",
        object_key=key,
        before=before,
        after={"memo": memo},
    )
    return row
