"""Plan status: the current stage and what blocks it, the rolled-up goal tree, alignment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.analytics.alignment import AlignmentReport, MandateScope, TaskLinks, check_alignment
from stcoord.analytics.gates import Unmet
from stcoord.analytics.rollup import (
    GoalFacts,
    IndicatorFacts,
    MilestoneFacts,
    Rollup,
    TaskFacts,
    rollup,
)
from stcoord.auth.permissions import Actor
from stcoord.institutions.models import Body, Mandate
from stcoord.plans import workflow
from stcoord.plans.models import (
    Goal,
    Indicator,
    Measurement,
    Milestone,
    Plan,
    ProgressReport,
    Task,
    TaskSupport,
)
from stcoord.plans.service import get_plan


@dataclass(frozen=True)
class GoalRow:
    id: int
    code: str
    kind: str
    title: str
    parent_id: int | None
    weight: float
    progress: float
    status: str


@dataclass(frozen=True)
class PlanStatus:
    plan: str
    plan_status: str
    current_stage: str | None
    current_stage_name: str | None
    unmet: list[Unmet]
    goals: list[GoalRow]
    rollup: Rollup


def compute_rollup(session: Session, plan: Plan, today: dt.date) -> Rollup:
    """Gather the tree in a handful of set-based queries and roll it up."""
    goals = [
        GoalFacts(i, p, w)
        for i, p, w in session.execute(
            select(Goal.id, Goal.parent_id, Goal.weight).where(Goal.plan_id == plan.id)
        )
    ]
    milestones: dict[int, list[MilestoneFacts]] = {}
    for task_id, due, done, weight in session.execute(
        select(Milestone.task_id, Milestone.due, Milestone.completed_on, Milestone.weight)
        .join(Task, Task.id == Milestone.task_id)
        .where(Task.plan_id == plan.id)
    ):
        milestones.setdefault(task_id, []).append(MilestoneFacts(due, done, weight))
    latest_period = (
        select(ProgressReport.task_id, func.max(ProgressReport.period).label("period"))
        .join(Task, Task.id == ProgressReport.task_id)
        .where(Task.plan_id == plan.id)
        .group_by(ProgressReport.task_id)
        .subquery()
    )
    reported = dict(
        session.execute(
            select(ProgressReport.task_id, ProgressReport.percent_complete).join(
                latest_period,
                (latest_period.c.task_id == ProgressReport.task_id)
                & (latest_period.c.period == ProgressReport.period),
            )
        ).all()
    )
    tasks = [
        TaskFacts(i, g, w, tuple(milestones.get(i, ())), reported.get(i))
        for i, g, w in session.execute(
            select(Task.id, Task.goal_id, Task.weight).where(Task.plan_id == plan.id)
        )
    ]
    latest_date = (
        select(Measurement.indicator_id, func.max(Measurement.on_date).label("on_date"))
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .where(Indicator.plan_id == plan.id)
        .group_by(Measurement.indicator_id)
        .subquery()
    )
    latest = dict(
        session.execute(
            select(Measurement.indicator_id, Measurement.value).join(
                latest_date,
                (latest_date.c.indicator_id == Measurement.indicator_id)
                & (latest_date.c.on_date == Measurement.on_date),
            )
        ).all()
    )
    indicators = [
        IndicatorFacts(
            i.id,
            i.goal_id,
            i.task_id,
            i.baseline,
            i.target,
            i.baseline_date,
            i.deadline,
            latest.get(i.id),
            i.weight,
        )
        for i in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))
    ]
    return rollup(goals=goals, tasks=tasks, indicators=indicators, today=today)


def plan_status(
    session: Session, actor: Actor, plan_key: str, today: dt.date | None = None
) -> PlanStatus:
    plan = get_plan(session, actor, plan_key)
    day = today or dt.date.today()
    result = compute_rollup(session, plan, day)
    stage = workflow.current_stage(plan)
    goals = [
        GoalRow(
            g.id,
            g.code,
            g.kind,
            g.title,
            g.parent_id,
            g.weight,
            result.goals[g.id].progress,
            result.goals[g.id].status,
        )
        for g in session.scalars(
            select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.seq, Goal.id)
        )
    ]
    return PlanStatus(
        plan=plan.key,
        plan_status=plan.status,
        current_stage=stage.key if stage else None,
        current_stage_name=stage.name if stage else None,
        unmet=workflow.blocking_conditions(session, plan),
        goals=goals,
        rollup=result,
    )


def alignment(session: Session, actor: Actor, plan_key: str) -> AlignmentReport:
    plan = get_plan(session, actor, plan_key)
    key_of = dict(
        session.execute(
            select(Body.id, Body.key).where(Body.jurisdiction_id == plan.jurisdiction_id)
        ).all()
    )
    counts = dict(
        session.execute(
            select(Indicator.task_id, func.count())
            .where(Indicator.plan_id == plan.id, Indicator.task_id.is_not(None))
            .group_by(Indicator.task_id)
        ).all()
    )
    support: dict[int, list[str]] = {}
    for task_id, body_id in session.execute(
        select(TaskSupport.task_id, TaskSupport.body_id).join(Task).where(Task.plan_id == plan.id)
    ):
        support.setdefault(task_id, []).append(key_of.get(body_id, str(body_id)))
    tasks = [
        TaskLinks(
            t.id,
            t.code,
            key_of.get(t.lead_body_id) if t.lead_body_id else None,
            counts.get(t.id, 0),
            t.budget_link,
            tuple(support.get(t.id, ())),
        )
        for t in session.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.code))
    ]
    mandates: dict[str, list[MandateScope]] = {}
    for body_id, power, scope in session.execute(
        select(Mandate.body_id, Mandate.power, Mandate.scope)
        .join(Body)
        .where(Body.jurisdiction_id == plan.jurisdiction_id)
    ):
        mandates.setdefault(key_of[body_id], []).append(
            MandateScope(power, "all" if scope == "all" else tuple(scope))
        )
    fields = tuple(plan.fields) if isinstance(plan.fields, list) else ()
    return check_alignment(tasks=tasks, mandates=mandates, plan_fields=fields)
