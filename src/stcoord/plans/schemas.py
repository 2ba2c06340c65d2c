"""Request shapes of the plans API, and plain-dict views shared by the API, CLI and pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.institutions.models import Body
from stcoord.plans.models import (
    DecisionRecord,
    Plan,
    PlanEvent,
    PlanStage,
    StageInput,
    StageOutput,
)
from stcoord.plans.status import PlanStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanOpen(_In):
    jurisdiction: str
    template: str
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=80)
    title: str
    lead_body: str | None = None
    names: dict[str, str] = Field(default_factory=dict)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    summary: str | None = None
    opened_on: dt.date | None = None


class AdvanceIn(_In):
    on_date: dt.date | None = None


class OutputIn(_In):
    name: str
    stage: str | None = None
    on_date: dt.date | None = None
    reference: str | None = None


class InputIn(_In):
    channel: str
    summary: str
    stage: str | None = None
    body: str | None = None
    organisation: str | None = None
    on_date: dt.date | None = None


class AttendeeIn(_In):
    role: str
    holder_type: str
    present: int = Field(ge=0)


class DecisionIn(_In):
    body: str
    on_date: dt.date
    attendees: list[AttendeeIn]
    outcome: str = "approved"
    stage: str | None = None
    votes_for: int = 0
    votes_against: int = 0
    consensus: bool = False
    chair_decided: bool = False
    minutes: str | None = None


class SectionIn(_In):
    key: str
    heading: str
    text: str = ""


class DraftIn(_In):
    title: str
    sections: list[SectionIn]
    note: str | None = None


class GoalIn(_In):
    code: str
    kind: str
    title: str
    parent: str | None = None
    weight: float = 1.0
    description: str | None = None


class TaskIn(_In):
    code: str
    title: str
    goal: str | None = None
    lead_body: str | None = None
    supporting: list[str] = Field(default_factory=list)
    weight: float = 1.0
    budget_link: str | None = None
    description: str | None = None


class TaskUpdate(_In):
    version: int
    title: str | None = None
    weight: float | None = None
    budget_link: str | None = None
    description: str | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class MilestoneIn(_In):
    code: str
    title: str
    due: dt.date
    weight: float = 1.0
    completed_on: dt.date | None = None


class CompleteIn(_In):
    completed_on: dt.date
    version: int | None = None


class ProgressIn(_In):
    period: str
    percent_complete: float
    narrative: str | None = None


class IndicatorIn(_In):
    code: str
    name: str
    unit: str
    baseline: float
    target: float
    direction: str
    deadline: dt.date | None = None
    baseline_date: dt.date | None = None
    goal: str | None = None
    task: str | None = None
    weight: float = 1.0
    source: str | None = None


class MeasurementIn(_In):
    on_date: dt.date
    value: float
    source: str | None = None


# ---------------------------------------------------------------- views


def stage_view(
    stage: PlanStage, key_of: dict[int, str], counts: dict[str, dict[int, int]]
) -> dict[str, Any]:
    return {
        "seq": stage.seq,
        "key": stage.key,
        "name": stage.name,
        "names": stage.names,
        "status": stage.status,
        "actor": key_of.get(stage.actor_body_id or -1),
        "participants": stage.participants,
        "outputs_required": stage.outputs,
        "channels": stage.channels,
        "gate": stage.gate,
        "planned_start": stage.planned_start,
        "planned_end": stage.planned_end,
        "actual_start": stage.actual_start,
        "actual_end": stage.actual_end,
        "outputs": counts["outputs"].get(stage.id, 0),
        "inputs": counts["inputs"].get(stage.id, 0),
        "decisions": counts["decisions"].get(stage.id, 0),
    }


def _count(session: Session, model: Any, stage_ids: list[int]) -> dict[int, int]:
    return dict(
        session.execute(
            select(model.stage_id, func.count())
            .where(model.stage_id.in_(stage_ids))
            .group_by(model.stage_id)
        ).all()
    )


def plan_view(session: Session, plan: Plan, status: PlanStatus | None = None) -> dict[str, Any]:
    key_of = dict(
        session.execute(
            select(Body.id, Body.key).where(Body.jurisdiction_id == plan.jurisdiction_id)
        ).all()
    )
    ids = [s.id for s in plan.stages]
    counts = {
        "outputs": _count(session, StageOutput, ids),
        "inputs": _count(session, StageInput, ids),
        "decisions": _count(session, DecisionRecord, ids),
    }
    current = next((s for s in plan.stages if s.status == "open"), None)
    view = {
        "key": plan.key,
        "title": plan.title,
        "names": plan.names,
        "status": plan.status,
        "template": plan.template_key,
        "lead_body": key_of.get(plan.lead_body_id or -1),
        "period_start": plan.period_start,
        "period_end": plan.period_end,
        "legal_basis": plan.legal_basis,
        "summary": plan.summary,
        "sources": plan.sources,
        "version": plan.version,
        "current_stage": current.key if current else None,
        "stages": [stage_view(s, key_of, counts) for s in plan.stages],
    }
    if status is not None:
        view["status_report"] = status_view(status)
    return view


def status_view(status: PlanStatus) -> dict[str, Any]:
    return {
        "plan": status.plan,
        "plan_status": status.plan_status,
        "current_stage": status.current_stage,
        "current_stage_name": status.current_stage_name,
        "unmet": [asdict(u) for u in status.unmet],
        "goals": [asdict(g) for g in status.goals],
    }


def event_view(event: PlanEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "on_date": event.on_date,
        "actor": event.actor_name,
        "kind": event.kind,
        "detail": event.detail,
    }
