"""Allocation scenarios: build the problem from last year's lines and a priority set, run the
optimiser (stcoord.analytics.allocation), save the explained answer, compare scenarios."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.analytics.allocation import (
    AgencyLimit,
    Allocation,
    AllocationInputError,
    AllocationProblem,
    FieldLimit,
    FieldPriority,
    Program,
    allocate,
    with_last_year_band,
)
from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.budget.models import (
    Agency,
    BudgetField,
    BudgetLine,
    BudgetShare,
    Classification,
    Scenario,
)
from stcoord.budget.models import (
    Program as ProgramRow,
)
from stcoord.budget.priorities import get_priorities
from stcoord.errors import Conflict, NotFound, ValidationFailed

BINDING_KEPT = 50


@dataclass(frozen=True)
class ScenarioParameters:
    """What a user sets for a scenario (all amounts in the lines' currency)."""

    base_year: int
    envelope: float
    band: float = 0.10
    spend_all: bool = False
    min_shares: dict[str, float] | None = None
    field_capacity: dict[str, float] | None = None
    agency_floor: dict[str, float] | None = None
    agency_ceiling: dict[str, float] | None = None
    phase: str = "enacted"
    slopes: tuple[float, ...] = (1.0, 0.5, 0.25)


def build_problem(
    session: Session,
    jurisdiction: str,
    classification_id: int,
    weights: dict[str, float],
    p: ScenarioParameters,
) -> AllocationProblem:
    """Programs (last year's money and field split) from the lines of ``p.base_year``."""
    amount = getattr(BudgetLine, p.phase)
    program_key = func.coalesce(ProgramRow.code, BudgetLine.line_key)
    totals = session.execute(
        select(Agency.code, program_key, func.sum(amount))
        .join(Agency, Agency.id == BudgetLine.agency_id)
        .outerjoin(ProgramRow, ProgramRow.id == BudgetLine.program_id)
        .where(BudgetLine.jurisdiction_code == jurisdiction, BudgetLine.fiscal_year == p.base_year)
        .group_by(Agency.code, program_key)
    ).all()
    share_amount = getattr(BudgetShare, p.phase)
    split: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for agency, program, field_key, money in session.execute(
        select(Agency.code, program_key, BudgetField.key, func.sum(share_amount))
        .join(BudgetLine, BudgetLine.id == BudgetShare.line_id)
        .join(Agency, Agency.id == BudgetShare.agency_id)
        .join(BudgetField, BudgetField.id == BudgetShare.field_id)
        .outerjoin(ProgramRow, ProgramRow.id == BudgetLine.program_id)
        .where(
            BudgetShare.jurisdiction_code == jurisdiction,
            BudgetShare.fiscal_year == p.base_year,
            BudgetField.classification_id == classification_id,
        )
        .group_by(Agency.code, program_key, BudgetField.key)
    ):
        split[(agency, program)][field_key] = float(money or 0)
    programs = []
    field_money: dict[str, float] = defaultdict(float)
    for agency, program, money in totals:
        last = float(money or 0)
        if last <= 0:
            continue
        shares = {f: m / last for f, m in split.get((agency, program), {}).items() if m > 0}
        for f, share in shares.items():
            field_money[f] += share * last
        programs.append(
            Program(key=f"{agency}/{program}", agency=agency, last_year=last, shares=shares)
        )
    if not programs:
        raise ValidationFailed(
            [("base_year", f"no {p.phase} budget lines in {p.base_year} for {jurisdiction}")]
        )
    priorities = tuple(
        FieldPriority.diminishing(f, weights.get(f, 0.0), step=max(money, 1.0), slopes=p.slopes)
        for f, money in sorted(field_money.items())
    )
    fields = set(field_money) | set(p.min_shares or {}) | set(p.field_capacity or {})
    return AllocationProblem(
        programs=with_last_year_band(programs, p.band),
        priorities=priorities,
        envelope=p.envelope,
        spend_all=p.spend_all,
        agency_limits=tuple(
            AgencyLimit(a, (p.agency_floor or {}).get(a), (p.agency_ceiling or {}).get(a))
            for a in sorted(set(p.agency_floor or {}) | set(p.agency_ceiling or {}))
        ),
        field_limits=tuple(
            FieldLimit(f, (p.min_shares or {}).get(f), (p.field_capacity or {}).get(f))
            for f in sorted(fields)
            if f in (p.min_shares or {}) or f in (p.field_capacity or {})
        ),
    )


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity (PostgreSQL refuses them): store None instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def result_view(answer: Allocation) -> dict[str, Any]:
    """What a saved scenario keeps of the optimiser's answer (JSON-ready)."""
    conflict = answer.conflict
    return _finite(
        {
            "status": answer.status,
            "solver": answer.solver,
            "message": answer.message,
            "objective": answer.objective,
            "total": answer.total,
            "allocation": answer.allocation,
            "agency_totals": answer.agency_totals,
            "field_totals": answer.field_totals,
            "envelope_shadow_price": answer.envelope_shadow_price,
            "field_marginal_values": answer.field_marginal_values,
            "binding": [
                {
                    "name": b.name,
                    "description": b.description,
                    "slack": b.slack,
                    "shadow_price": b.shadow_price,
                }
                for b in answer.binding[:BINDING_KEPT]
            ],
            "binding_count": len(answer.binding),
            "conflict": None
            if conflict is None
            else {
                "constraints": list(conflict.constraints),
                "descriptions": list(conflict.descriptions),
                "explanation": conflict.explanation,
                "minimal": conflict.minimal,
            },
            "seconds": {"build": answer.build_seconds, "solve": answer.solve_seconds},
        }
    )


def run_scenario(
    session: Session,
    actor: Actor,
    *,
    key: str,
    title: str,
    priorities: str,
    parameters: ScenarioParameters,
    solver: str = "highs",
) -> Scenario:
    """Build, solve and save a scenario (infeasible ones are saved too, with their conflict)."""
    require(actor, "budget.manage")
    if session.scalar(select(Scenario.id).where(Scenario.key == key)) is not None:
        raise Conflict(f"a scenario {key!r} already exists")
    if parameters.envelope <= 0:
        raise ValidationFailed([("envelope", "must be positive")])
    prio = get_priorities(session, actor, priorities)
    scheme = session.get(Classification, prio.classification_id)
    assert scheme is not None
    problem = build_problem(session, scheme.jurisdiction_code, scheme.id, prio.weights, parameters)
    try:
        answer = allocate(problem, solver=solver)  # type: ignore[arg-type]
    except AllocationInputError as exc:
        raise ValidationFailed([("parameters", p) for p in exc.problems]) from None
    row = Scenario(
        key=key,
        title=title,
        priority_set_id=prio.id,
        base_year=parameters.base_year,
        envelope=Decimal(str(parameters.envelope)),
        parameters={**parameters.__dict__, "slopes": list(parameters.slopes), "solver": solver},
        result=result_view(answer),
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        actor,
        action="scenario.run",
        object_type="scenario",
        object_key=key,
        before=None,
        after={
            "status": answer.status,
            "objective": row.result["objective"],
            "envelope": parameters.envelope,
        },
    )
    return row


def get_scenario(session: Session, actor: Actor, key: str) -> Scenario:
    require(actor, "budget.read")
    row = session.scalar(select(Scenario).where(Scenario.key == key))
    if row is None:
        raise NotFound(f"no scenario {key!r}")
    return row


def list_scenarios(session: Session, actor: Actor) -> list[Scenario]:
    require(actor, "budget.read")
    return list(session.scalars(select(Scenario).order_by(Scenario.key)).all())


def compare(session: Session, actor: Actor, keys: list[str]) -> dict[str, Any]:
    """Scenarios side by side: status, objective, envelope price, totals per agency and field."""
    rows = [get_scenario(session, actor, k) for k in keys]
    agencies = sorted({a for r in rows for a in r.result.get("agency_totals", {})})
    fields = sorted({f for r in rows for f in r.result.get("field_totals", {})})
    return {
        "scenarios": [
            {
                "key": r.key,
                "title": r.title,
                "envelope": float(r.envelope),
                "status": r.result.get("status"),
                "objective": r.result.get("objective"),
                "envelope_shadow_price": r.result.get("envelope_shadow_price"),
            }
            for r in rows
        ],
        "agencies": [
            {"agency": a, **{r.key: r.result.get("agency_totals", {}).get(a) for r in rows}}
            for a in agencies
        ],
        "fields": [
            {"field": f, **{r.key: r.result.get("field_totals", {}).get(f) for r in rows}}
            for f in fields
        ],
    }
