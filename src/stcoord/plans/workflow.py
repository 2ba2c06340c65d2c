"""The procedure engine: gather the facts a stage's gate needs and move the plan along.

Stages, transitions and gates are data copied from the mechanism's procedure template; nothing
here is specific to a country. The gate itself is the pure
:func:`stcoord.analytics.gates.unmet_conditions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.analytics.gates import Condition, PlanFacts, StageFacts, Unmet, unmet_conditions
from stcoord.institutions.models import Body
from stcoord.plans.models import DecisionRecord, Plan, PlanStage, StageInput, StageOutput

# Consultations (a later domain) report unanswered comments per stage through this hook, set by
# a flows module above both domains, so plans never import consultation.
UnansweredComments = Callable[[Session, list[int]], dict[int, int]]
_unanswered_hooks: list[UnansweredComments] = []


def register_unanswered_comments(hook: UnansweredComments) -> None:
    if hook not in _unanswered_hooks:
        _unanswered_hooks.append(hook)


def _unanswered(session: Session, stage_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for hook in _unanswered_hooks:
        for stage_id, n in hook(session, stage_ids).items():
            counts[stage_id] = counts.get(stage_id, 0) + n
    return counts


def plan_facts(session: Session, plan: Plan) -> PlanFacts:
    """Everything on record for each stage, in four set-based queries."""
    stage_ids = [s.id for s in plan.stages]
    key_of = dict(
        session.execute(
            select(Body.id, Body.key).where(Body.jurisdiction_id == plan.jurisdiction_id)
        ).all()
    )
    outputs: dict[int, set[str]] = {}
    for stage_id, name in session.execute(
        select(StageOutput.stage_id, StageOutput.name).where(StageOutput.stage_id.in_(stage_ids))
    ):
        outputs.setdefault(stage_id, set()).add(name)
    heard: dict[int, set[str]] = {}
    advisors: dict[int, set[str]] = {}
    for stage_id, channel, body_id in session.execute(
        select(StageInput.stage_id, StageInput.channel, StageInput.body_id).where(
            StageInput.stage_id.in_(stage_ids)
        )
    ):
        heard.setdefault(stage_id, set()).add(channel)
        if channel == "advisory" and body_id is not None:
            advisors.setdefault(stage_id, set()).add(key_of.get(body_id, ""))
    approved: dict[int, set[str]] = {}
    for stage_id, body_id in session.execute(
        select(DecisionRecord.stage_id, DecisionRecord.body_id).where(
            DecisionRecord.stage_id.in_(stage_ids), DecisionRecord.outcome == "approved"
        )
    ):
        approved.setdefault(stage_id, set()).add(key_of.get(body_id, ""))
    unanswered = _unanswered(session, stage_ids)
    return PlanFacts(
        stages=tuple(
            StageFacts(
                seq=s.seq,
                key=s.key,
                status=s.status,
                channels=tuple(s.channels),
                gate=tuple(
                    Condition(
                        kind=g["kind"],
                        body=g.get("body"),
                        output=g.get("output"),
                        channels=tuple(g.get("channels", ())),
                        description=g.get("description"),
                    )
                    for g in s.gate
                ),
                outputs=frozenset(outputs.get(s.id, ())),
                heard=frozenset(heard.get(s.id, ())),
                advisory_bodies=frozenset(advisors.get(s.id, ())),
                approved_by=frozenset(approved.get(s.id, ())),
                unanswered_comments=unanswered.get(s.id, 0),
            )
            for s in plan.stages
        )
    )


def current_stage(plan: Plan) -> PlanStage | None:
    return next((s for s in plan.stages if s.status == "open"), None)


def blocking_conditions(session: Session, plan: Plan) -> list[Unmet]:
    """What keeps the current stage from closing (empty when it may close)."""
    stage = current_stage(plan)
    if stage is None:
        return []
    facts = plan_facts(session, plan)
    stage_facts = next(f for f in facts.stages if f.seq == stage.seq)
    return unmet_conditions(stage_facts, facts)


def close_and_open_next(plan: Plan, stage: PlanStage, on_date: dt.date) -> PlanStage | None:
    """Close ``stage`` and open the next one (or complete the plan); returns the new stage."""
    stage.status = "closed"
    stage.actual_end = on_date
    following = [s for s in plan.stages if s.seq > stage.seq]
    if not following:
        plan.status = "completed"
        return None
    nxt = following[0]
    nxt.status = "open"
    nxt.actual_start = on_date
    return nxt
