"""Plain data behind a plan's pages and reports: procedure, goal tree, tasks and indicators.

Gathered through the plan services in a few set-based queries (no query per task or goal) and
handed to pages and report templates as frozen dataclasses. Nothing here writes, renders or
translates: the plan dossier and the progress report are these structures rendered by the
interface layer (``plans/pages.py`` with ``reports/charts.py`` and ``reports/pdf.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from stcoord.analytics.alignment import AlignmentReport
from stcoord.analytics.gates import Unmet
from stcoord.analytics.rollup import (
    SEVERITY,
    IndicatorFacts,
    MilestoneFacts,
    Status,
    TaskFacts,
    indicator_status,
    task_status,
)
from stcoord.auth.permissions import Actor
from stcoord.institutions.models import Body, Jurisdiction
from stcoord.plans import service, workflow
from stcoord.plans.models import (
    DecisionRecord,
    Draft,
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
)
from stcoord.plans.status import alignment, compute_rollup

DUE_SOON_DAYS = 30  # the roll-up's horizon: a milestone due this soon puts its task at risk
MAX_TREND_CHARTS = 24  # indicator charts in a progress report; the rest are listed in a table
NO_DATA = Status(0.0, "no_data")


# ---------------------------------------------------------------- the procedure


@dataclass(frozen=True)
class StageView:
    stage: PlanStage
    actor: Body | None
    outputs: list[StageOutput]
    inputs: list[StageInput]
    decisions: list[DecisionRecord]
    late: bool  # closed after its planned end, or still open past it

    @property
    def is_current(self) -> bool:
        return self.stage.status == "open"


@dataclass(frozen=True)
class PlanOverview:
    plan: Plan
    jurisdiction: Jurisdiction
    bodies: dict[int, Body]
    lead: Body | None
    stages: list[StageView]
    current: StageView | None
    unmet: list[Unmet]
    events: list[PlanEvent]
    drafts: list[Draft]
    today: dt.date

    @property
    def body_by_key(self) -> dict[str, Body]:
        return {b.key: b for b in self.bodies.values()}

    @property
    def decisions(self) -> list[tuple[StageView, DecisionRecord]]:
        return [(s, d) for s in self.stages for d in s.decisions]

    @property
    def events_by_date(self) -> list[PlanEvent]:
        """The timeline in date order (the date an event happened, else when it was recorded)."""
        return sorted(self.events, key=lambda e: (e.on_date or e.at.date(), e.id))

    @property
    def closed_count(self) -> int:
        return sum(1 for s in self.stages if s.stage.status == "closed")


def _stage_late(stage: PlanStage, today: dt.date) -> bool:
    if stage.planned_end is None:
        return False
    if stage.actual_end is not None:
        return stage.actual_end > stage.planned_end
    return stage.status == "open" and today > stage.planned_end


def jurisdiction_bodies(session: Session, jurisdiction_id: int) -> dict[int, Body]:
    return {
        b.id: b
        for b in session.scalars(
            select(Body).where(Body.jurisdiction_id == jurisdiction_id).order_by(Body.position)
        )
    }


def plan_overview(
    session: Session, actor: Actor, plan_key: str, today: dt.date | None = None
) -> PlanOverview:
    """The plan with its stages (and what was recorded at each), what blocks the open stage,
    its timeline and drafts."""
    day = today or dt.date.today()
    plan = service.get_plan(session, actor, plan_key)
    jurisdiction = session.get(Jurisdiction, plan.jurisdiction_id)
    assert jurisdiction is not None
    bodies = jurisdiction_bodies(session, plan.jurisdiction_id)
    ids = [s.id for s in plan.stages]
    outputs: dict[int, list[StageOutput]] = {}
    for o in session.scalars(
        select(StageOutput).where(StageOutput.stage_id.in_(ids)).order_by(StageOutput.id)
    ):
        outputs.setdefault(o.stage_id, []).append(o)
    inputs: dict[int, list[StageInput]] = {}
    for i in session.scalars(
        select(StageInput).where(StageInput.stage_id.in_(ids)).order_by(StageInput.id)
    ):
        inputs.setdefault(i.stage_id, []).append(i)
    decisions: dict[int, list[DecisionRecord]] = {}
    for d in session.scalars(
        select(DecisionRecord)
        .where(DecisionRecord.plan_id == plan.id)
        .order_by(DecisionRecord.on_date, DecisionRecord.id)
    ):
        decisions.setdefault(d.stage_id, []).append(d)
    stages = [
        StageView(
            stage=s,
            actor=bodies.get(s.actor_body_id) if s.actor_body_id else None,
            outputs=outputs.get(s.id, []),
            inputs=inputs.get(s.id, []),
            decisions=decisions.get(s.id, []),
            late=_stage_late(s, day),
        )
        for s in plan.stages
    ]
    events = list(
        session.scalars(
            select(PlanEvent).where(PlanEvent.plan_id == plan.id).order_by(PlanEvent.id)
        )
    )
    drafts = list(
        session.scalars(select(Draft).where(Draft.plan_id == plan.id).order_by(Draft.version))
    )
    return PlanOverview(
        plan=plan,
        jurisdiction=jurisdiction,
        bodies=bodies,
        lead=bodies.get(plan.lead_body_id) if plan.lead_body_id else None,
        stages=stages,
        current=next((s for s in stages if s.is_current), None),
        unmet=workflow.blocking_conditions(session, plan),
        events=events,
        drafts=drafts,
        today=day,
    )


# ---------------------------------------------------------------- the goal tree


@dataclass(frozen=True)
class IndicatorRow:
    indicator: Indicator
    latest: float | None
    latest_on: dt.date | None
    status: Status


@dataclass(frozen=True)
class TaskRow:
    task: Task
    lead: Body | None
    status: Status
    indicators: list[IndicatorRow] = field(default_factory=list)


@dataclass(frozen=True)
class GoalNode:
    goal: Goal
    depth: int
    status: Status
    tasks: list[TaskRow]
    indicators: list[IndicatorRow]  # attached to the goal itself, not through a task


@dataclass(frozen=True)
class GoalTree:
    plan: Plan
    nodes: list[GoalNode]  # depth first, in the order goals were added
    loose_tasks: list[TaskRow]  # tasks under no goal
    loose_indicators: list[IndicatorRow]  # indicators under neither a goal nor a task
    overall: Status
    today: dt.date

    @property
    def roots(self) -> list[GoalNode]:
        return [n for n in self.nodes if n.depth == 0]

    @property
    def tasks(self) -> list[TaskRow]:
        return [t for n in self.nodes for t in n.tasks] + self.loose_tasks

    @property
    def indicators(self) -> list[IndicatorRow]:
        via_tasks = [i for t in self.tasks for i in t.indicators]
        direct = [i for n in self.nodes for i in n.indicators]
        return direct + via_tasks + self.loose_indicators

    def task_counts(self) -> dict[str, int]:
        counts = {s: 0 for s in SEVERITY}
        for t in self.tasks:
            counts[t.status.status] = counts.get(t.status.status, 0) + 1
        return counts


def combine(children: Iterable[tuple[float, Status]]) -> Status:
    """Weighted mean progress and worst status (the roll-up's rule, for the plan as a whole)."""
    items = list(children)
    if not items:
        return NO_DATA
    weight = sum(w for w, _ in items) or 1.0
    progress = sum(w * s.progress for w, s in items) / weight
    if all(s.status == "done" for _, s in items):
        return Status(progress, "done")
    worst = max((s.status for _, s in items if s.status != "done"), key=SEVERITY.__getitem__)
    return Status(progress, "on_track" if worst == "no_data" else worst)


def latest_measurements(
    session: Session, indicator_ids: list[int] | None, plan_id: int
) -> dict[int, tuple[dt.date, float]]:
    """The latest (date, value) of each indicator of the plan, in one query."""
    latest = (
        select(Measurement.indicator_id, func.max(Measurement.on_date).label("on_date"))
        .join(Indicator, Indicator.id == Measurement.indicator_id)
        .where(Indicator.plan_id == plan_id)
        .group_by(Measurement.indicator_id)
    )
    if indicator_ids is not None:
        latest = latest.where(Measurement.indicator_id.in_(indicator_ids))
    sub = latest.subquery()
    rows = session.execute(
        select(Measurement.indicator_id, Measurement.on_date, Measurement.value).join(
            sub,
            (sub.c.indicator_id == Measurement.indicator_id)
            & (sub.c.on_date == Measurement.on_date),
        )
    )
    return {i: (d, v) for i, d, v in rows}


def goal_tree(
    session: Session, actor: Actor, plan_key: str, today: dt.date | None = None
) -> GoalTree:
    """Every goal with its rolled-up status, the tasks and indicators under it."""
    day = today or dt.date.today()
    plan = service.get_plan(session, actor, plan_key)
    rolled = compute_rollup(session, plan, day)
    bodies = jurisdiction_bodies(session, plan.jurisdiction_id)
    goals = list(
        session.scalars(select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.seq, Goal.id))
    )
    tasks = list(session.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.code)))
    indicators = list(
        session.scalars(
            select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.code)
        )
    )
    latest = latest_measurements(session, None, plan.id)

    def ind_row(i: Indicator) -> IndicatorRow:
        on, value = latest.get(i.id, (None, None))
        return IndicatorRow(i, value, on, rolled.indicators.get(i.id, NO_DATA))

    by_task: dict[int, list[IndicatorRow]] = {}
    by_goal: dict[int | None, list[IndicatorRow]] = {}
    for i in indicators:
        if i.task_id is not None:
            by_task.setdefault(i.task_id, []).append(ind_row(i))
        else:
            by_goal.setdefault(i.goal_id, []).append(ind_row(i))
    task_rows: dict[int | None, list[TaskRow]] = {}
    for t in tasks:
        task_rows.setdefault(t.goal_id, []).append(
            TaskRow(
                t,
                bodies.get(t.lead_body_id) if t.lead_body_id else None,
                rolled.tasks.get(t.id, NO_DATA),
                by_task.get(t.id, []),
            )
        )
    known = {g.id for g in goals}
    kids: dict[int | None, list[Goal]] = {}
    for g in goals:
        kids.setdefault(g.parent_id if g.parent_id in known else None, []).append(g)
    nodes: list[GoalNode] = []
    stack = [(g, 0) for g in reversed(kids.get(None, []))]
    while stack:  # iterative depth-first walk: trees may be deep
        goal, depth = stack.pop()
        nodes.append(
            GoalNode(
                goal,
                depth,
                rolled.goals.get(goal.id, NO_DATA),
                task_rows.get(goal.id, []),
                by_goal.get(goal.id, []),
            )
        )
        stack.extend((k, depth + 1) for k in reversed(kids.get(goal.id, [])))
    loose_tasks = [r for gid, rows in task_rows.items() if gid not in known for r in rows]
    loose_inds = [r for gid, rows in by_goal.items() if gid not in known for r in rows]
    roots = [(n.goal.weight, n.status) for n in nodes if n.depth == 0]
    return GoalTree(
        plan=plan,
        nodes=nodes,
        loose_tasks=loose_tasks,
        loose_indicators=loose_inds,
        overall=combine(roots),
        today=day,
    )


def plan_progress(session: Session, plan: Plan, today: dt.date) -> Status:
    """The plan's overall progress and status: its top goals combined by weight."""
    rolled = compute_rollup(session, plan, today)
    roots = session.execute(
        select(Goal.id, Goal.weight).where(Goal.plan_id == plan.id, Goal.parent_id.is_(None))
    ).all()
    return combine((w, rolled.goals.get(i, NO_DATA)) for i, w in roots)


# ---------------------------------------------------------------- the list of plans


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    jurisdiction: Jurisdiction
    current: PlanStage | None
    stages: int
    closed: int
    progress: Status


def plan_rows(
    session: Session, actor: Actor, jurisdiction: str | None = None, today: dt.date | None = None
) -> list[PlanRow]:
    day = today or dt.date.today()
    plans = service.list_plans(session, actor, jurisdiction)
    ids = {p.jurisdiction_id for p in plans}
    jurisdictions = {
        j.id: j for j in session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))
    }
    return [
        PlanRow(
            plan=p,
            jurisdiction=jurisdictions[p.jurisdiction_id],
            current=workflow.current_stage(p),
            stages=len(p.stages),
            closed=sum(1 for s in p.stages if s.status == "closed"),
            progress=plan_progress(session, p, day),
        )
        for p in plans
    ]


# ---------------------------------------------------------------- one task


@dataclass(frozen=True)
class MilestoneRow:
    milestone: Milestone
    late: bool  # past due and not completed
    completed_late: bool  # completed after its due date
    due_soon: bool  # not completed and due within DUE_SOON_DAYS


@dataclass(frozen=True)
class IndicatorSeries:
    indicator: Indicator
    measurements: list[Measurement]
    status: Status

    @property
    def latest(self) -> Measurement | None:
        return self.measurements[-1] if self.measurements else None


@dataclass(frozen=True)
class TaskDetail:
    plan: Plan
    task: Task
    goals: list[Goal]  # from the top goal down to the task's own
    lead: Body | None
    supporting: list[Body]
    milestones: list[MilestoneRow]
    reports: list[ProgressReport]
    indicators: list[IndicatorSeries]
    status: Status
    today: dt.date


def milestone_row(m: Milestone, today: dt.date) -> MilestoneRow:
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    return MilestoneRow(
        m,
        late=m.completed_on is None and m.due < today,
        completed_late=m.completed_on is not None and m.completed_on > m.due,
        due_soon=m.completed_on is None and today <= m.due <= soon,
    )


def _indicator_facts(i: Indicator, latest: float | None) -> IndicatorFacts:
    return IndicatorFacts(
        i.id,
        i.goal_id,
        i.task_id,
        i.baseline,
        i.target,
        i.baseline_date,
        i.deadline,
        latest,
        i.weight,
    )


def series_of(
    session: Session, indicators: list[Indicator], today: dt.date
) -> list[IndicatorSeries]:
    """Indicators with every measurement (one query) and their status."""
    values: dict[int, list[Measurement]] = {}
    for m in session.scalars(
        select(Measurement)
        .where(Measurement.indicator_id.in_([i.id for i in indicators]))
        .order_by(Measurement.on_date)
    ):
        values.setdefault(m.indicator_id, []).append(m)
    out = []
    for i in indicators:
        ms = values.get(i.id, [])
        latest = ms[-1].value if ms else None
        out.append(IndicatorSeries(i, ms, indicator_status(_indicator_facts(i, latest), today)))
    return out


def task_detail(
    session: Session, actor: Actor, plan_key: str, code: str, today: dt.date | None = None
) -> TaskDetail:
    """A task with its bodies, milestones (late ones flagged), progress history and indicators;
    its status follows the roll-up's rules for this one task."""
    day = today or dt.date.today()
    task = service.get_task(session, actor, plan_key, code)
    plan = service.get_plan(session, actor, plan_key)
    bodies = jurisdiction_bodies(session, plan.jurisdiction_id)
    goals: list[Goal] = []
    goal = session.get(Goal, task.goal_id) if task.goal_id else None
    while goal is not None and len(goals) < 100:
        goals.insert(0, goal)
        goal = session.get(Goal, goal.parent_id) if goal.parent_id else None
    milestones = list(
        session.scalars(
            select(Milestone)
            .where(Milestone.task_id == task.id)
            .order_by(Milestone.due, Milestone.code)
        )
    )
    reports = list(
        session.scalars(
            select(ProgressReport)
            .where(ProgressReport.task_id == task.id)
            .order_by(ProgressReport.period)
        )
    )
    indicators = series_of(
        session,
        list(
            session.scalars(
                select(Indicator).where(Indicator.task_id == task.id).order_by(Indicator.code)
            )
        ),
        day,
    )
    facts = TaskFacts(
        task.id,
        task.goal_id,
        task.weight,
        tuple(MilestoneFacts(m.due, m.completed_on, m.weight) for m in milestones),
        max(reports, key=lambda r: r.period).percent_complete if reports else None,
    )
    return TaskDetail(
        plan=plan,
        task=task,
        goals=goals,
        lead=bodies.get(task.lead_body_id) if task.lead_body_id else None,
        supporting=sorted(
            (bodies[s.body_id] for s in task.supporting if s.body_id in bodies),
            key=lambda b: b.position,
        ),
        milestones=[milestone_row(m, day) for m in milestones],
        reports=reports,
        indicators=indicators,
        status=task_status(facts, day, [s.status for s in indicators], DUE_SOON_DAYS),
        today=day,
    )


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class LateMilestone:
    task: Task
    lead: Body | None
    row: MilestoneRow


@dataclass(frozen=True)
class ProgressData:
    """What the progress report shows: the tree, trends of indicators, what is late or at risk."""

    tree: GoalTree
    charted: list[IndicatorSeries]  # at most MAX_TREND_CHARTS, the most behind first
    not_charted: int
    late_tasks: list[TaskRow]
    at_risk_tasks: list[TaskRow]
    behind_indicators: list[IndicatorRow]
    late_milestones: list[LateMilestone]
    due_soon: list[LateMilestone]


def progress_data(
    session: Session,
    actor: Actor,
    plan_key: str,
    today: dt.date | None = None,
    max_charts: int = MAX_TREND_CHARTS,
) -> ProgressData:
    tree = goal_tree(session, actor, plan_key, today)
    day = tree.today
    rows = tree.indicators
    order = sorted(rows, key=lambda r: (-SEVERITY[r.status.status], r.indicator.code))
    charted = series_of(session, [r.indicator for r in order[:max_charts]], day)
    tasks = {t.task.id: t for t in tree.tasks}
    open_milestones = session.scalars(
        select(Milestone)
        .join(Task, Task.id == Milestone.task_id)
        .where(
            Task.plan_id == tree.plan.id,
            Milestone.completed_on.is_(None),
            Milestone.due <= day + dt.timedelta(days=DUE_SOON_DAYS),
        )
        .order_by(Milestone.due, Milestone.id)
    )
    late: list[LateMilestone] = []
    soon: list[LateMilestone] = []
    for m in open_milestones:
        row = milestone_row(m, day)
        item = LateMilestone(tasks[m.task_id].task, tasks[m.task_id].lead, row)
        (late if row.late else soon).append(item)
    return ProgressData(
        tree=tree,
        charted=charted,
        not_charted=max(0, len(rows) - len(charted)),
        late_tasks=[t for t in tree.tasks if t.status.status == "late"],
        at_risk_tasks=[t for t in tree.tasks if t.status.status == "at_risk"],
        behind_indicators=[r for r in order if r.status.status in ("late", "at_risk")],
        late_milestones=late,
        due_soon=soon,
    )


@dataclass(frozen=True)
class DossierData:
    """The plan dossier: procedure, decisions, drafts, goal tree and alignment."""

    overview: PlanOverview
    tree: GoalTree
    alignment: AlignmentReport


def dossier_data(
    session: Session, actor: Actor, plan_key: str, today: dt.date | None = None
) -> DossierData:
    overview = plan_overview(session, actor, plan_key, today)
    return DossierData(
        overview=overview,
        tree=goal_tree(session, actor, plan_key, overview.today),
        alignment=alignment(session, actor, plan_key),
    )


def draft_versions(session: Session, actor: Actor, plan_key: str) -> list[Draft]:
    """Drafts with their sections loaded (for the drafts page)."""
    plan = service.get_plan(session, actor, plan_key)
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.plan_id == plan.id)
            .order_by(Draft.version)
            .options(selectinload(Draft.sections))
        )
    )
