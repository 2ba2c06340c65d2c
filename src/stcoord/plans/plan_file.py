"""Plan files (YAML, ``stcoord-plan/1``): a plan's procedure history and content as data.

Loading *replays* the file through the services: the plan is opened from its template, each
stage's outputs, inputs and decisions are recorded and the stage is closed through the gate, so
a file can only describe a history the mechanism allows. Used for the shipped reference plans
(Japan's 6th Basic Plan, the US National AI R&D Strategic Plan) and for imports.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor
from stcoord.errors import ServiceError
from stcoord.institutions.yaml_locations import (
    Problem,
    YamlSyntaxError,
    format_path,
    load_located,
)
from stcoord.plans import service
from stcoord.plans.models import Plan


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OutputSpec(_Strict):
    name: str
    on: dt.date | None = None
    reference: str | None = None


class InputSpec(_Strict):
    channel: str
    summary: str
    body: str | None = None
    organisation: str | None = None
    on: dt.date | None = None


class AttendeeSpec(_Strict):
    role: str
    holder_type: str
    present: int = Field(ge=0)


class DecisionSpec(_Strict):
    body: str
    on: dt.date
    outcome: Literal["approved", "rejected", "deferred"] = "approved"
    attendees: list[AttendeeSpec]
    votes_for: int = 0
    votes_against: int = 0
    consensus: bool = False
    chair_decided: bool = False
    minutes: str | None = None


class StageHistory(_Strict):
    stage: str
    planned: tuple[dt.date | None, dt.date | None] | None = None
    outputs: list[OutputSpec] = Field(default_factory=list)
    inputs: list[InputSpec] = Field(default_factory=list)
    decisions: list[DecisionSpec] = Field(default_factory=list)
    closed_on: dt.date | None = None


class ProcedureHistory(_Strict):
    opened_on: dt.date
    stages: list[StageHistory] = Field(default_factory=list)


class SectionSpec(_Strict):
    key: str
    heading: str
    text: str = ""


class DraftSpec(_Strict):
    title: str
    on: dt.date | None = None
    note: str | None = None
    sections: list[SectionSpec]


class GoalSpec(_Strict):
    code: str
    kind: Literal["goal", "objective", "target"]
    title: str
    names: dict[str, str] = Field(default_factory=dict)
    weight: float = 1.0
    description: str | None = None
    children: list[GoalSpec] = Field(default_factory=list)


class MilestoneSpec(_Strict):
    code: str
    title: str
    due: dt.date
    completed_on: dt.date | None = None
    weight: float = 1.0


class ProgressSpec(_Strict):
    period: str
    percent: float
    narrative: str | None = None


class TaskSpec(_Strict):
    code: str
    title: str
    goal: str | None = None
    lead_body: str | None = None
    supporting: list[str] = Field(default_factory=list)
    weight: float = 1.0
    budget_link: str | None = None
    description: str | None = None
    milestones: list[MilestoneSpec] = Field(default_factory=list)
    progress: list[ProgressSpec] = Field(default_factory=list)


class MeasurementSpec(_Strict):
    on: dt.date
    value: float
    source: str | None = None


class IndicatorSpec(_Strict):
    code: str
    name: str
    names: dict[str, str] = Field(default_factory=dict)
    unit: str
    baseline: float
    baseline_date: dt.date | None = None
    target: float
    deadline: dt.date | None = None
    direction: Literal["increase", "decrease"]
    goal: str | None = None
    task: str | None = None
    weight: float = 1.0
    source: str | None = None
    measurements: list[MeasurementSpec] = Field(default_factory=list)


class PlanFile(_Strict):
    format: Literal["stcoord-plan/1"] = "stcoord-plan/1"
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    jurisdiction: str
    template: str
    title: str
    names: dict[str, str] = Field(default_factory=dict)
    lead_body: str | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    legal_basis: str | None = None
    summary: str | None = None
    sources: list[str] = Field(default_factory=list)
    procedure: ProcedureHistory
    drafts: list[DraftSpec] = Field(default_factory=list)
    goals: list[GoalSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    indicators: list[IndicatorSpec] = Field(default_factory=list)


class PlanFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_plan(text: str, filename: str = "<input>") -> PlanFile:
    try:
        doc = load_located(text)
    except YamlSyntaxError as exc:
        raise PlanFileError([Problem(filename, exc.line, "", str(exc))]) from None
    try:
        return PlanFile.model_validate(doc.data)
    except ValidationError as exc:
        raise PlanFileError(
            [
                Problem(
                    filename, doc.line_of(tuple(e["loc"])), format_path(tuple(e["loc"])), e["msg"]
                )
                for e in exc.errors()
            ]
        ) from None


def load_plan(session: Session, actor: Actor, spec: PlanFile, filename: str = "<input>") -> bool:
    """Replay a plan file; returns False (and writes nothing) when the plan already exists.

    A step the mechanism refuses raises :class:`PlanFileError` naming the step, and the caller's
    transaction rolls everything back.
    """
    if session.scalar(select(Plan.id).where(Plan.key == spec.key)) is not None:
        return False
    replay = _Replay(session, actor, spec)
    try:
        replay.run()
    except ServiceError as exc:
        details = "; ".join(f"{d.get('path')}: {d.get('message')}" for d in exc.details)
        message = f"{exc.message} ({details})" if details else exc.message
        raise PlanFileError([Problem(filename, None, replay.step, message)]) from None
    return True


class _Replay:
    """Runs a plan file through the services, remembering the step for error messages."""

    def __init__(self, session: Session, actor: Actor, spec: PlanFile) -> None:
        self.session, self.actor, self.spec = session, actor, spec
        self.step = "open"

    def run(self) -> None:
        spec, session, actor = self.spec, self.session, self.actor
        planned = {h.stage: h.planned for h in spec.procedure.stages if h.planned}
        service.open_plan(
            session,
            actor,
            code=spec.jurisdiction,
            template_key=spec.template,
            key=spec.key,
            title=spec.title,
            lead_body=spec.lead_body,
            names=spec.names,
            period_start=spec.period_start,
            period_end=spec.period_end,
            legal_basis=spec.legal_basis,
            summary=spec.summary,
            opened_on=spec.procedure.opened_on,
            planned={k: (v[0], v[1]) for k, v in planned.items() if v},
        )
        for i, draft in enumerate(spec.drafts):
            self.step = format_path(("drafts", i))
            service.add_draft(
                session,
                actor,
                plan_key=spec.key,
                title=draft.title,
                note=draft.note,
                on_date=draft.on,
                sections=[s.model_dump() for s in draft.sections],
            )
        self._goals(spec.goals, None)
        for i, task in enumerate(spec.tasks):
            self.step = format_path(("tasks", i))
            self._task(task)
        for i, ind in enumerate(spec.indicators):
            self.step = format_path(("indicators", i))
            self._indicator(ind)
        for i, history in enumerate(spec.procedure.stages):
            self.step = format_path(("procedure", "stages", i))
            self._stage(history)

    def _goals(self, goals: list[GoalSpec], parent: str | None) -> None:
        for goal in goals:
            self.step = f"goals/{goal.code}"
            service.add_goal(
                self.session,
                self.actor,
                plan_key=self.spec.key,
                code=goal.code,
                kind=goal.kind,
                title=goal.title,
                parent=parent,
                weight=goal.weight,
                names=goal.names,
                description=goal.description,
            )
            self._goals(goal.children, goal.code)

    def _task(self, task: TaskSpec) -> None:
        key = self.spec.key
        service.add_task(
            self.session,
            self.actor,
            plan_key=key,
            code=task.code,
            title=task.title,
            goal=task.goal,
            lead_body=task.lead_body,
            supporting=task.supporting,
            weight=task.weight,
            budget_link=task.budget_link,
            description=task.description,
        )
        for m in task.milestones:
            service.add_milestone(
                self.session,
                self.actor,
                plan_key=key,
                task_code=task.code,
                code=m.code,
                title=m.title,
                due=m.due,
                weight=m.weight,
                completed_on=m.completed_on,
            )
        for p in task.progress:
            service.file_progress(
                self.session,
                self.actor,
                plan_key=key,
                task_code=task.code,
                period=p.period,
                percent_complete=p.percent,
                narrative=p.narrative,
            )

    def _indicator(self, ind: IndicatorSpec) -> None:
        key = self.spec.key
        service.add_indicator(
            self.session,
            self.actor,
            plan_key=key,
            code=ind.code,
            name=ind.name,
            unit=ind.unit,
            baseline=ind.baseline,
            target=ind.target,
            direction=ind.direction,
            deadline=ind.deadline,
            baseline_date=ind.baseline_date,
            goal=ind.goal,
            task=ind.task,
            weight=ind.weight,
            names=ind.names,
            source=ind.source,
        )
        for m in ind.measurements:
            service.record_measurement(
                self.session,
                self.actor,
                plan_key=key,
                indicator=ind.code,
                on_date=m.on,
                value=m.value,
                source=m.source,
            )

    def _stage(self, h: StageHistory) -> None:
        session, actor, key = self.session, self.actor, self.spec.key
        for o in h.outputs:
            service.record_output(
                session,
                actor,
                plan_key=key,
                stage_key=h.stage,
                name=o.name,
                on_date=o.on,
                reference=o.reference,
            )
        for inp in h.inputs:
            service.record_input(
                session,
                actor,
                plan_key=key,
                stage_key=h.stage,
                channel=inp.channel,
                summary=inp.summary,
                body=inp.body,
                organisation=inp.organisation,
                on_date=inp.on,
            )
        for d in h.decisions:
            service.record_decision(
                session,
                actor,
                plan_key=key,
                stage_key=h.stage,
                body=d.body,
                on_date=d.on,
                attendees=[a.model_dump() for a in d.attendees],
                outcome=d.outcome,
                votes_for=d.votes_for,
                votes_against=d.votes_against,
                consensus=d.consensus,
                chair_decided=d.chair_decided,
                minutes=d.minutes,
            )
        if h.closed_on:
            plan = service.get_plan(session, actor, key)
            current = next((s for s in plan.stages if s.status == "open"), None)
            if current is None or current.key != h.stage:
                open_key = current.key if current else "none"
                raise ServiceError(
                    f"stage {h.stage!r} is not the open stage ({open_key}); "
                    "list stages in procedure order"
                )
            service.advance(session, actor, plan_key=key, on_date=h.closed_on)
