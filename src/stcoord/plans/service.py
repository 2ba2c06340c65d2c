"""Use cases of strategic plans: open, record, decide, advance; drafts; goals, tasks, progress.

Services never commit; every change writes an audit record and, for the procedure, an event on
the plan's timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from stcoord.analytics.composition import RuleSyntaxError, SeatCount
from stcoord.analytics.decisions import Attendance, check_decision, parse_quorum
from stcoord.analytics.gates import Unmet
from stcoord.analytics.textdiff import SectionDiff, diff_drafts
from stcoord.analytics.vocabulary import Channel
from stcoord.audit.service import changed_fields, record_change
from stcoord.auth.permissions import Actor, require
from stcoord.errors import Conflict, NotFound, ServiceError, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction, Mandate, ProcedureTemplate
from stcoord.plans import workflow
from stcoord.plans.models import (
    DecisionRecord,
    Draft,
    DraftSection,
    Goal,
    Indicator,
    Measurement,
    Milestone,
    Plan,
    PlanEvent,
    PlanStage,
    ProgressReport,
    StageInput,
    StageOutput,
    Task,
    TaskSupport,
)

GOAL_KINDS = ("goal", "objective", "target")
DIRECTIONS = ("increase", "decrease")


class GateBlocked(ServiceError):
    """The stage cannot close: ``details`` lists every unmet condition."""

    status_code = 409
    code = "gate_blocked"

    def __init__(self, stage: str, unmet: list[Unmet]) -> None:
        super().__init__(
            f"stage '{stage}' cannot close: " + "; ".join(u.message for u in unmet),
            [{"path": u.kind, "message": u.message} for u in unmet],
        )


# ---------------------------------------------------------------- lookups


def _jurisdiction_id(session: Session, code: str) -> int:
    jid = session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code.upper()))
    if jid is None:
        raise NotFound(f"no mechanism for jurisdiction {code!r}")
    return jid


def _body(session: Session, jurisdiction_id: int, key: str, path: str = "body") -> Body:
    body = session.scalar(
        select(Body).where(Body.jurisdiction_id == jurisdiction_id, Body.key == key)
    )
    if body is None:
        raise ValidationFailed([(path, f"unknown body {key!r}")])
    return body


def get_plan(session: Session, actor: Actor, key: str) -> Plan:
    require(actor, "plan.read")
    plan = session.scalar(select(Plan).where(Plan.key == key).options(selectinload(Plan.stages)))
    if plan is None:
        raise NotFound(f"no plan {key!r}")
    return plan


def list_plans(session: Session, actor: Actor, code: str | None = None) -> list[Plan]:
    require(actor, "plan.read")
    stmt = select(Plan).options(selectinload(Plan.stages)).order_by(Plan.key)
    if code:
        stmt = stmt.where(Plan.jurisdiction_id == _jurisdiction_id(session, code))
    return list(session.scalars(stmt).all())


def _event(
    session: Session,
    actor: Actor,
    plan: Plan,
    kind: str,
    detail: dict[str, Any],
    *,
    stage: PlanStage | None = None,
    on_date: dt.date | None = None,
) -> None:
    session.add(
        PlanEvent(
            plan_id=plan.id,
            stage_id=stage.id if stage else None,
            kind=kind,
            detail=detail,
            on_date=on_date,
            actor_name=actor.username,
        )
    )
    record_change(
        session,
        actor,
        action=f"plan.{kind}",
        object_type="plan",
        object_key=plan.key,
        before=None,
        after={"stage": stage.key if stage else None, **detail},
    )


# ---------------------------------------------------------------- procedure


def open_plan(
    session: Session,
    actor: Actor,
    *,
    code: str,
    template_key: str,
    key: str,
    title: str,
    lead_body: str | None = None,
    names: dict[str, str] | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    legal_basis: str | None = None,
    summary: str | None = None,
    opened_on: dt.date | None = None,
    planned: dict[str, tuple[dt.date | None, dt.date | None]] | None = None,
) -> Plan:
    """Open a plan from a procedure template: copy its stages and open the first."""
    require(actor, "plan.manage")
    jid = _jurisdiction_id(session, code)
    template = session.scalar(
        select(ProcedureTemplate)
        .where(ProcedureTemplate.jurisdiction_id == jid, ProcedureTemplate.key == template_key)
        .options(selectinload(ProcedureTemplate.stages))
    )
    problems = []
    if template is None:
        problems.append(("template_key", f"no procedure template {template_key!r} in {code}"))
    if not title.strip():
        problems.append(("title", "must not be empty"))
    if period_start and period_end and period_end < period_start:
        problems.append(("period_end", "ends before it starts"))
    if session.scalar(select(Plan.id).where(Plan.key == key)) is not None:
        raise Conflict(f"a plan with key {key!r} already exists")
    lead = _body(session, jid, lead_body, "lead_body") if lead_body else None
    if problems:
        raise ValidationFailed(problems)
    assert template is not None
    planned = planned or {}
    plan = Plan(
        key=key,
        jurisdiction_id=jid,
        template_key=template_key,
        title=title,
        names=names or {},
        lead_body_id=lead.id if lead else None,
        fields=template.fields,
        period_start=period_start,
        period_end=period_end,
        legal_basis=legal_basis or template.legal_basis,
        summary=summary,
        sources=list(template.sources),
        stages=[
            PlanStage(
                seq=s.seq,
                key=s.key,
                name=s.name,
                names=dict(s.names),
                actor_body_id=s.actor_body_id,
                participants=list(s.participants),
                outputs=list(s.outputs),
                channels=list(s.channels),
                gate=list(s.gate),
                status="pending",
                planned_start=planned.get(s.key, (None, None))[0],
                planned_end=planned.get(s.key, (None, None))[1],
            )
            for s in template.stages
        ],
    )
    session.add(plan)
    first = plan.stages[0]
    first.status, first.actual_start = "open", opened_on or dt.date.today()
    session.flush()
    _event(
        session,
        actor,
        plan,
        "opened",
        {"template": template_key, "title": title},
        stage=first,
        on_date=first.actual_start,
    )
    return plan


def _stage(plan: Plan, stage_key: str | None) -> PlanStage:
    if stage_key is None:
        stage = workflow.current_stage(plan)
        if stage is None:
            raise ValidationFailed([("stage", "the plan has no open stage")])
        return stage
    for stage in plan.stages:
        if stage.key == stage_key:
            return stage
    raise NotFound(f"plan {plan.key!r} has no stage {stage_key!r}")


def record_output(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    name: str,
    stage_key: str | None = None,
    on_date: dt.date | None = None,
    reference: str | None = None,
) -> StageOutput:
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    stage = _stage(plan, stage_key)
    if not name.strip():
        raise ValidationFailed([("name", "must not be empty")])
    output = StageOutput(
        stage_id=stage.id,
        name=name,
        on_date=on_date,
        reference=reference,
        recorded_by=actor.username,
    )
    session.add(output)
    _event(session, actor, plan, "output", {"name": name}, stage=stage, on_date=on_date)
    return output


def record_input(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    channel: str,
    summary: str,
    stage_key: str | None = None,
    body: str | None = None,
    organisation: str | None = None,
    on_date: dt.date | None = None,
) -> StageInput:
    """Record input heard at a stage; an advisory opinion names the advisory body."""
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    stage = _stage(plan, stage_key)
    problems = []
    if channel not in Channel.__members__:
        problems.append(("channel", f"unknown channel {channel!r}; use one of {list(Channel)}"))
    if not summary.strip():
        problems.append(("summary", "must not be empty"))
    if channel == "advisory" and not body:
        problems.append(("body", "an advisory opinion must name the advisory body"))
    body_row = _body(session, plan.jurisdiction_id, body) if body else None
    if problems:
        raise ValidationFailed(problems)
    row = StageInput(
        stage_id=stage.id,
        channel=channel,
        summary=summary,
        body_id=body_row.id if body_row else None,
        organisation=organisation,
        on_date=on_date,
        recorded_by=actor.username,
    )
    session.add(row)
    _event(
        session,
        actor,
        plan,
        "input",
        {"channel": channel, "body": body, "organisation": organisation},
        stage=stage,
        on_date=on_date,
    )
    return row


def _holds_decide_power(session: Session, body: Body, plan: Plan) -> bool:
    scopes = session.scalars(
        select(Mandate.scope).where(Mandate.body_id == body.id, Mandate.power == "decide")
    ).all()
    fields = plan.fields if isinstance(plan.fields, list) else []
    return any(s == "all" or not fields or set(fields) & set(s) for s in scopes)


def record_decision(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    body: str,
    on_date: dt.date,
    attendees: list[dict[str, Any]],
    outcome: str,
    stage_key: str | None = None,
    votes_for: int = 0,
    votes_against: int = 0,
    consensus: bool = False,
    chair_decided: bool = False,
    minutes: str | None = None,
) -> DecisionRecord:
    """Record a decision; refused (with every reason) when the body may not decide, the quorum
    is not met or the decision rule is not followed."""
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    stage = _stage(plan, stage_key)
    body_row = session.scalar(
        select(Body)
        .where(Body.jurisdiction_id == plan.jurisdiction_id, Body.key == body)
        .options(selectinload(Body.seats))
    )
    if body_row is None:
        raise ValidationFailed([("body", f"unknown body {body!r}")])
    problems: list[tuple[str, str]] = []
    if not _holds_decide_power(session, body_row, plan):
        problems.append(
            (
                "body",
                f"{body_row.short_name or body_row.name} holds no power to "
                "decide on this plan's fields",
            )
        )
    try:
        attendance = [Attendance(a["role"], a["holder_type"], int(a["present"])) for a in attendees]
    except (KeyError, TypeError, ValueError):
        raise ValidationFailed(
            [("attendees", "each attendee needs role, holder_type and present (a number)")]
        ) from None
    decision = body_row.decision or {}
    try:
        parse_quorum(decision.get("quorum") or "majority of seats")
    except RuleSyntaxError as exc:
        raise ValidationFailed([("quorum", f"the body's quorum cannot be read: {exc}")]) from None
    check = check_decision(
        rule=decision.get("rule"),
        quorum=decision.get("quorum"),
        seats=[SeatCount(s.role, s.holder_type, s.count) for s in body_row.seats],
        attendance=attendance,
        outcome=outcome,
        votes_for=votes_for,
        votes_against=votes_against,
        consensus=consensus,
        chair_decided=chair_decided,
    )
    problems += [("decision", p) for p in check.problems]
    problems += [("quorum", line) for line in check.quorum.explanation if "not met" in line]
    if problems:
        raise ValidationFailed(problems)
    record = DecisionRecord(
        plan_id=plan.id,
        stage_id=stage.id,
        body_id=body_row.id,
        on_date=on_date,
        attendees=attendees,
        outcome=outcome,
        votes_for=votes_for,
        votes_against=votes_against,
        consensus=consensus,
        chair_decided=chair_decided,
        quorum_report=list(check.quorum.explanation),
        minutes=minutes,
        recorded_by=actor.username,
    )
    session.add(record)
    _event(
        session,
        actor,
        plan,
        "decision",
        {"body": body, "outcome": outcome},
        stage=stage,
        on_date=on_date,
    )
    return record


def advance(
    session: Session, actor: Actor, *, plan_key: str, on_date: dt.date | None = None
) -> PlanStage | None:
    """Close the current stage if its gate holds and open the next; otherwise refuse with
    every unmet condition (:class:`GateBlocked`)."""
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    stage = workflow.current_stage(plan)
    if stage is None:
        raise ValidationFailed([("plan", f"plan {plan_key!r} has no open stage")])
    unmet = workflow.blocking_conditions(session, plan)
    if unmet:
        raise GateBlocked(stage.key, unmet)
    day = on_date or dt.date.today()
    if stage.actual_start and day < stage.actual_start:
        raise ValidationFailed([("on_date", "a stage cannot close before it opened")])
    nxt = workflow.close_and_open_next(plan, stage, day)
    plan.version += 1
    _event(
        session,
        actor,
        plan,
        "advanced",
        {"closed": stage.key, "opened": nxt.key if nxt else None},
        stage=stage,
        on_date=day,
    )
    return nxt


def timeline(session: Session, actor: Actor, plan_key: str) -> list[PlanEvent]:
    plan = get_plan(session, actor, plan_key)
    return list(
        session.scalars(
            select(PlanEvent).where(PlanEvent.plan_id == plan.id).order_by(PlanEvent.id)
        ).all()
    )


# ---------------------------------------------------------------- drafts


def add_draft(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    title: str,
    sections: list[dict[str, str]],
    note: str | None = None,
    on_date: dt.date | None = None,
) -> Draft:
    """Save a new version of the plan's draft, split into sections (key, heading, text)."""
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    problems = []
    keys = [s.get("key", "") for s in sections]
    for i, section in enumerate(sections):
        if not section.get("key") or not section.get("heading"):
            problems.append((f"sections[{i}]", "needs a key and a heading"))
        elif keys.count(section["key"]) > 1 and keys.index(section["key"]) != i:
            problems.append((f"sections[{i}].key", f"duplicate section {section['key']!r}"))
    if problems:
        raise ValidationFailed(problems)
    version = (
        session.scalar(select(func.max(Draft.version)).where(Draft.plan_id == plan.id)) or 0
    ) + 1
    draft = Draft(
        plan_id=plan.id,
        version=version,
        title=title,
        note=note,
        created_by=actor.username,
        sections=[
            DraftSection(key=s["key"], seq=i, heading=s["heading"], text=s.get("text", ""))
            for i, s in enumerate(sections)
        ],
    )
    session.add(draft)
    _event(session, actor, plan, "draft", {"version": version, "title": title}, on_date=on_date)
    return draft


def get_draft(session: Session, actor: Actor, plan_key: str, version: int) -> Draft:
    plan = get_plan(session, actor, plan_key)
    draft = session.scalar(
        select(Draft)
        .where(Draft.plan_id == plan.id, Draft.version == version)
        .options(selectinload(Draft.sections))
    )
    if draft is None:
        raise NotFound(f"plan {plan_key!r} has no draft version {version}")
    return draft


def list_drafts(session: Session, actor: Actor, plan_key: str) -> list[Draft]:
    plan = get_plan(session, actor, plan_key)
    return list(
        session.scalars(select(Draft).where(Draft.plan_id == plan.id).order_by(Draft.version)).all()
    )


@dataclass(frozen=True)
class DraftComparison:
    old: Draft
    new: Draft
    sections: list[SectionDiff]
    headings: dict[str, str]


def compare_drafts(
    session: Session, actor: Actor, plan_key: str, old: int, new: int
) -> DraftComparison:
    a, b = get_draft(session, actor, plan_key, old), get_draft(session, actor, plan_key, new)
    headings = {s.key: s.heading for s in a.sections} | {s.key: s.heading for s in b.sections}
    return DraftComparison(
        a,
        b,
        diff_drafts({s.key: s.text for s in a.sections}, {s.key: s.text for s in b.sections}),
        headings,
    )


# ---------------------------------------------------------------- goals, tasks, indicators


def _goal_by_code(session: Session, plan: Plan, code: str, path: str) -> Goal:
    goal = session.scalar(select(Goal).where(Goal.plan_id == plan.id, Goal.code == code))
    if goal is None:
        raise ValidationFailed([(path, f"unknown goal {code!r}")])
    return goal


def add_goal(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    code: str,
    kind: str,
    title: str,
    parent: str | None = None,
    weight: float = 1.0,
    names: dict[str, str] | None = None,
    description: str | None = None,
) -> Goal:
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    problems = []
    if kind not in GOAL_KINDS:
        problems.append(("kind", f"must be one of {list(GOAL_KINDS)}"))
    if weight < 0:
        problems.append(("weight", "must not be negative"))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(Goal.id).where(Goal.plan_id == plan.id, Goal.code == code)):
        raise Conflict(f"goal {code!r} already exists in plan {plan_key!r}")
    parent_row = _goal_by_code(session, plan, parent, "parent") if parent else None
    seq = session.scalar(select(func.count()).select_from(Goal).where(Goal.plan_id == plan.id))
    goal = Goal(
        plan_id=plan.id,
        code=code,
        kind=kind,
        title=title,
        weight=weight,
        parent_id=parent_row.id if parent_row else None,
        names=names or {},
        description=description,
        seq=seq or 0,
    )
    session.add(goal)
    session.flush()
    record_change(
        session,
        actor,
        action="goal.create",
        object_type="goal",
        object_key=f"{plan_key}/{code}",
        before=None,
        after={"kind": kind, "title": title, "parent": parent, "weight": weight},
    )
    return goal


def task_snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "goal_id": task.goal_id,
        "lead_body_id": task.lead_body_id,
        "weight": task.weight,
        "budget_link": task.budget_link,
        "description": task.description,
        "version": task.version,
        "supporting": sorted(s.body_id for s in task.supporting),
    }


def add_task(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    code: str,
    title: str,
    goal: str | None = None,
    lead_body: str | None = None,
    supporting: list[str] | None = None,
    weight: float = 1.0,
    budget_link: str | None = None,
    description: str | None = None,
) -> Task:
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    if session.scalar(select(Task.id).where(Task.plan_id == plan.id, Task.code == code)):
        raise Conflict(f"task {code!r} already exists in plan {plan_key!r}")
    goal_row = _goal_by_code(session, plan, goal, "goal") if goal else None
    lead = _body(session, plan.jurisdiction_id, lead_body, "lead_body") if lead_body else None
    support = [
        _body(session, plan.jurisdiction_id, k, f"supporting[{i}]")
        for i, k in enumerate(supporting or [])
    ]
    if weight < 0:
        raise ValidationFailed([("weight", "must not be negative")])
    task = Task(
        plan_id=plan.id,
        code=code,
        title=title,
        goal_id=goal_row.id if goal_row else None,
        lead_body_id=lead.id if lead else None,
        weight=weight,
        budget_link=budget_link,
        description=description,
        supporting=[TaskSupport(body_id=b.id) for b in support],
    )
    session.add(task)
    session.flush()
    record_change(
        session,
        actor,
        action="task.create",
        object_type="task",
        object_key=f"{plan_key}/{code}",
        before=None,
        after=task_snapshot(task),
    )
    return task


def get_task(session: Session, actor: Actor, plan_key: str, code: str) -> Task:
    plan = get_plan(session, actor, plan_key)
    task = session.scalar(
        select(Task)
        .where(Task.plan_id == plan.id, Task.code == code)
        .options(selectinload(Task.supporting))
    )
    if task is None:
        raise NotFound(f"plan {plan_key!r} has no task {code!r}")
    return task


TASK_EDITABLE = ("title", "weight", "budget_link", "description")


def update_task(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    code: str,
    expected_version: int,
    changes: dict[str, Any],
) -> Task:
    """Edit a task; the second of two concurrent edits gets a :class:`Conflict`."""
    task = get_task(session, actor, plan_key, code)
    require(actor, "plan.manage", task)
    unknown = sorted(set(changes) - set(TASK_EDITABLE))
    if unknown:
        raise ValidationFailed([(k, "this field cannot be edited here") for k in unknown])
    if task.version != expected_version:
        raise Conflict(
            f"task {code!r} was changed by someone else (version {task.version})",
            current=task_snapshot(task),
        )
    before = task_snapshot(task)
    for name, value in changes.items():
        setattr(task, name, value)
    task.version += 1
    session.flush()
    old, new = changed_fields(before, task_snapshot(task))
    record_change(
        session,
        actor,
        action="task.update",
        object_type="task",
        object_key=f"{plan_key}/{code}",
        before=old,
        after=new,
    )
    return task


def add_milestone(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    task_code: str,
    code: str,
    title: str,
    due: dt.date,
    weight: float = 1.0,
    completed_on: dt.date | None = None,
) -> Milestone:
    task = get_task(session, actor, plan_key, task_code)
    require(actor, "plan.manage", task)
    if session.scalar(
        select(Milestone.id).where(Milestone.task_id == task.id, Milestone.code == code)
    ):
        raise Conflict(f"milestone {code!r} already exists on task {task_code!r}")
    milestone = Milestone(
        task_id=task.id, code=code, title=title, due=due, weight=weight, completed_on=completed_on
    )
    session.add(milestone)
    session.flush()
    record_change(
        session,
        actor,
        action="milestone.create",
        object_type="milestone",
        object_key=f"{plan_key}/{task_code}/{code}",
        before=None,
        after={"title": title, "due": due.isoformat(), "weight": weight},
    )
    return milestone


def complete_milestone(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    task_code: str,
    code: str,
    completed_on: dt.date,
    expected_version: int | None = None,
) -> Milestone:
    """Liaisons of the task's lead or supporting bodies (and coordinators) mark completion."""
    task = get_task(session, actor, plan_key, task_code)
    require(actor, "task.report", task)
    milestone = session.scalar(
        select(Milestone).where(Milestone.task_id == task.id, Milestone.code == code)
    )
    if milestone is None:
        raise NotFound(f"task {task_code!r} has no milestone {code!r}")
    if expected_version is not None and milestone.version != expected_version:
        raise Conflict(
            f"milestone {code!r} was changed by someone else",
            current={"completed_on": str(milestone.completed_on), "version": milestone.version},
        )
    before = milestone.completed_on
    milestone.completed_on = completed_on
    milestone.version += 1
    record_change(
        session,
        actor,
        action="milestone.complete",
        object_type="milestone",
        object_key=f"{plan_key}/{task_code}/{code}",
        before={"completed_on": before.isoformat() if before else None},
        after={"completed_on": completed_on.isoformat()},
    )
    return milestone


def file_progress(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    task_code: str,
    period: str,
    percent_complete: float,
    narrative: str | None = None,
) -> ProgressReport:
    """An agency's periodic progress report on a task it leads or supports."""
    task = get_task(session, actor, plan_key, task_code)
    require(actor, "task.report", task)
    if not 0 <= percent_complete <= 100:
        raise ValidationFailed([("percent_complete", "must be between 0 and 100")])
    if not period.strip():
        raise ValidationFailed([("period", "must not be empty")])
    existing = session.scalar(
        select(ProgressReport).where(
            ProgressReport.task_id == task.id, ProgressReport.period == period
        )
    )
    if existing is not None:
        raise Conflict(
            f"a progress report for {period} already exists on task {task_code!r}",
            current={
                "percent_complete": existing.percent_complete,
                "narrative": existing.narrative,
            },
        )
    report = ProgressReport(
        task_id=task.id,
        period=period,
        percent_complete=percent_complete,
        narrative=narrative,
        reported_by=actor.username,
    )
    session.add(report)
    record_change(
        session,
        actor,
        action="progress.file",
        object_type="task",
        object_key=f"{plan_key}/{task_code}",
        before=None,
        after={"period": period, "percent_complete": percent_complete},
    )
    return report


def add_indicator(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    code: str,
    name: str,
    unit: str,
    baseline: float,
    target: float,
    direction: str,
    deadline: dt.date | None = None,
    baseline_date: dt.date | None = None,
    goal: str | None = None,
    task: str | None = None,
    weight: float = 1.0,
    names: dict[str, str] | None = None,
    source: str | None = None,
) -> Indicator:
    plan = get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    problems = []
    if direction not in DIRECTIONS:
        problems.append(("direction", "must be increase or decrease"))
    elif (target - baseline) * (1 if direction == "increase" else -1) < 0:
        problems.append(("target", f"a target to {direction} must lie beyond the baseline"))
    if deadline and baseline_date and deadline < baseline_date:
        problems.append(("deadline", "is before the baseline date"))
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(
        select(Indicator.id).where(Indicator.plan_id == plan.id, Indicator.code == code)
    ):
        raise Conflict(f"indicator {code!r} already exists in plan {plan_key!r}")
    goal_row = _goal_by_code(session, plan, goal, "goal") if goal else None
    task_row = get_task(session, actor, plan_key, task) if task else None
    indicator = Indicator(
        plan_id=plan.id,
        code=code,
        name=name,
        unit=unit,
        baseline=baseline,
        target=target,
        direction=direction,
        deadline=deadline,
        baseline_date=baseline_date,
        goal_id=goal_row.id if goal_row else None,
        task_id=task_row.id if task_row else None,
        weight=weight,
        names=names or {},
        source=source,
    )
    session.add(indicator)
    session.flush()
    record_change(
        session,
        actor,
        action="indicator.create",
        object_type="indicator",
        object_key=f"{plan_key}/{code}",
        before=None,
        after={
            "name": name,
            "unit": unit,
            "baseline": baseline,
            "target": target,
            "direction": direction,
        },
    )
    return indicator


def get_indicator(session: Session, actor: Actor, plan_key: str, code: str) -> Indicator:
    plan = get_plan(session, actor, plan_key)
    indicator = session.scalar(
        select(Indicator).where(Indicator.plan_id == plan.id, Indicator.code == code)
    )
    if indicator is None:
        raise NotFound(f"plan {plan_key!r} has no indicator {code!r}")
    return indicator


def record_measurement(
    session: Session,
    actor: Actor,
    *,
    plan_key: str,
    indicator: str,
    on_date: dt.date,
    value: float,
    source: str | None = None,
) -> Measurement:
    """A value of an indicator; liaisons may report values of indicators on their tasks."""
    ind = get_indicator(session, actor, plan_key, indicator)
    if ind.task_id is not None:
        task = session.get(Task, ind.task_id)
        require(actor, "task.report", task)
    else:
        require(actor, "plan.manage")
    if session.scalar(
        select(Measurement.id).where(
            Measurement.indicator_id == ind.id, Measurement.on_date == on_date
        )
    ):
        raise Conflict(f"indicator {indicator!r} already has a value for {on_date}")
    row = Measurement(
        indicator_id=ind.id, on_date=on_date, value=value, source=source, reported_by=actor.username
    )
    session.add(row)
    record_change(
        session,
        actor,
        action="measurement.record",
        object_type="indicator",
        object_key=f"{plan_key}/{indicator}",
        before=None,
        after={"on_date": on_date.isoformat(), "value": value},
    )
    return row


def correct_measurement(
    session: Session,
    actor: Actor,
    *,
    measurement: Measurement,
    value: float,
    source: str | None = None,
) -> Measurement:
    """Replace a reported value (audited with the old value)."""
    indicator = session.get(Indicator, measurement.indicator_id)
    assert indicator is not None
    if indicator.task_id is not None:
        require(actor, "task.report", session.get(Task, indicator.task_id))
    else:
        require(actor, "plan.manage")
    before = {"value": measurement.value, "source": measurement.source}
    measurement.value, measurement.source = value, source
    record_change(
        session,
        actor,
        action="measurement.correct",
        object_type="indicator",
        object_key=f"{indicator.code}@{measurement.on_date.isoformat()}",
        before=before,
        after={"value": value, "source": source},
    )
    return measurement


def require_manage(actor: Actor) -> None:
    require(actor, "plan.manage")


def task_detail(session: Session, actor: Actor, plan_key: str, code: str) -> dict[str, Any]:
    """A task with its milestones, progress reports and indicators (for API and pages)."""
    task = get_task(session, actor, plan_key, code)
    plan = get_plan(session, actor, plan_key)
    key_of = dict(
        session.execute(
            select(Body.id, Body.key).where(Body.jurisdiction_id == plan.jurisdiction_id)
        ).all()
    )
    goal = session.get(Goal, task.goal_id) if task.goal_id else None
    milestones = session.scalars(
        select(Milestone)
        .where(Milestone.task_id == task.id)
        .order_by(Milestone.due, Milestone.code)
    ).all()
    reports = session.scalars(
        select(ProgressReport)
        .where(ProgressReport.task_id == task.id)
        .order_by(ProgressReport.period)
    ).all()
    indicators = session.scalars(
        select(Indicator.code).where(Indicator.task_id == task.id).order_by(Indicator.code)
    ).all()
    return {
        "plan": plan_key,
        "code": task.code,
        "title": task.title,
        "goal": goal.code if goal else None,
        "lead_body": key_of.get(task.lead_body_id or -1),
        "supporting": sorted(key_of[s.body_id] for s in task.supporting),
        "weight": task.weight,
        "budget_link": task.budget_link,
        "description": task.description,
        "version": task.version,
        "milestones": [
            {
                "code": m.code,
                "title": m.title,
                "due": m.due,
                "completed_on": m.completed_on,
                "weight": m.weight,
                "version": m.version,
            }
            for m in milestones
        ],
        "progress": [
            {
                "period": r.period,
                "percent_complete": r.percent_complete,
                "narrative": r.narrative,
                "reported_by": r.reported_by,
            }
            for r in reports
        ],
        "indicators": list(indicators),
    }


def indicator_detail(session: Session, actor: Actor, plan_key: str, code: str) -> dict[str, Any]:
    ind = get_indicator(session, actor, plan_key, code)
    values = session.scalars(
        select(Measurement).where(Measurement.indicator_id == ind.id).order_by(Measurement.on_date)
    ).all()
    return {
        "code": ind.code,
        "name": ind.name,
        "names": ind.names,
        "unit": ind.unit,
        "baseline": ind.baseline,
        "baseline_date": ind.baseline_date,
        "target": ind.target,
        "deadline": ind.deadline,
        "direction": ind.direction,
        "source": ind.source,
        "measurements": [
            {
                "on_date": m.on_date,
                "value": m.value,
                "source": m.source,
                "reported_by": m.reported_by,
            }
            for m in values
        ],
    }
