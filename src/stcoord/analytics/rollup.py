"""Progress and status of a plan's goal tree, rolled up with weights.

Statuses: ``done``, ``late``, ``at_risk``, ``on_track`` (and ``no_data`` for a goal with nothing
under it). The rules, applied on a reference date ``today``:

- a **milestone** is done when completed, late when its due date has passed without completion;
- an **indicator**'s progress is how far its latest value has moved from baseline to target
  (either direction), clipped to [0, 1]; it is expected to move linearly from the baseline date
  to its deadline; it is ``done`` at the target, ``late`` past the deadline short of it,
  ``at_risk`` when more than ``tolerance`` behind the expected progress;
- a **task**'s progress is the weighted share of its completed milestones (or, without
  milestones, its latest reported percentage); it is ``done`` at 100%, ``late`` when a milestone
  is late, ``at_risk`` when a milestone falls due within ``horizon_days`` unfinished or one of
  its indicators is at risk or late;
- a **goal** (objective, target) takes the weighted mean progress of its child goals, tasks and
  indicators, and the worst status among them (``done`` only when all are done).

>>> import datetime as dt
>>> day = dt.date(2025, 1, 1)
>>> tree = rollup(
...     goals=[GoalFacts(1, None)],
...     tasks=[TaskFacts(10, 1, milestones=(MilestoneFacts(day, day),
...                                          MilestoneFacts(dt.date(2026, 1, 1), None)))],
...     indicators=[], today=day)
>>> tree.goals[1].progress, tree.goals[1].status
(0.5, 'on_track')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

# The inputs are NamedTuples rather than dataclasses: a large plan passes tens of thousands of
# them, and tuples build about five times faster (measured in benchmarks/bench_plan_rollup.py).
SEVERITY = {"done": 0, "on_track": 1, "no_data": 1, "at_risk": 2, "late": 3}


class MilestoneFacts(NamedTuple):
    due: dt.date
    completed_on: dt.date | None = None
    weight: float = 1.0


class TaskFacts(NamedTuple):
    id: int
    goal_id: int | None
    weight: float = 1.0
    milestones: tuple[MilestoneFacts, ...] = ()
    reported_percent: float | None = None


class IndicatorFacts(NamedTuple):
    id: int
    goal_id: int | None = None
    task_id: int | None = None
    baseline: float = 0.0
    target: float = 1.0
    baseline_date: dt.date | None = None
    deadline: dt.date | None = None
    latest: float | None = None
    weight: float = 1.0


class GoalFacts(NamedTuple):
    id: int
    parent_id: int | None
    weight: float = 1.0


@dataclass(frozen=True)
class Status:
    progress: float
    status: str
    expected: float | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rollup:
    goals: dict[int, Status] = field(default_factory=dict)
    tasks: dict[int, Status] = field(default_factory=dict)
    indicators: dict[int, Status] = field(default_factory=dict)


def _share(start: dt.date | None, end: dt.date | None, today: dt.date) -> float:
    if start is None or end is None or end <= start:
        return 1.0 if end is not None and today >= end else 0.0
    return min(1.0, max(0.0, (today - start).days / (end - start).days))


def indicator_status(ind: IndicatorFacts, today: dt.date, tolerance: float = 0.1) -> Status:
    """Progress from baseline toward target (either direction) against a linear expectation."""
    span = ind.target - ind.baseline
    if ind.latest is None:
        progress = 0.0
    elif span == 0:
        progress = 1.0
    else:
        progress = min(1.0, max(0.0, (ind.latest - ind.baseline) / span))
    expected = _share(ind.baseline_date, ind.deadline, today)
    if progress >= 1.0:
        return Status(progress, "done", expected)
    if ind.deadline is not None and today > ind.deadline:
        return Status(progress, "late", expected, ("deadline passed short of the target",))
    if progress < expected - tolerance:
        reason = f"{progress:.0%} of the way, {expected:.0%} expected by now"
        return Status(progress, "at_risk", expected, (reason,))
    return Status(progress, "on_track", expected)


def task_status(
    task: TaskFacts, today: dt.date, indicator_states: Iterable[Status] = (), horizon_days: int = 30
) -> Status:
    total = sum(m.weight for m in task.milestones)
    if total > 0:
        progress = sum(m.weight for m in task.milestones if m.completed_on) / total
    else:
        progress = min(1.0, max(0.0, (task.reported_percent or 0.0) / 100))
    if progress >= 1.0:
        return Status(1.0, "done")
    reasons = []
    late = [m for m in task.milestones if not m.completed_on and m.due < today]
    if late:
        reasons.append(f"{len(late)} milestone(s) overdue")
        return Status(progress, "late", None, tuple(reasons))
    soon = today + dt.timedelta(days=horizon_days)
    if any(not m.completed_on and m.due <= soon for m in task.milestones):
        reasons.append(f"a milestone falls due within {horizon_days} days")
    if any(s.status in ("at_risk", "late") for s in indicator_states):
        reasons.append("an indicator is behind its trajectory")
    return Status(progress, "at_risk" if reasons else "on_track", None, tuple(reasons))


def _combine(children: list[tuple[float, Status]]) -> Status:
    if not children:
        return Status(0.0, "no_data")
    weight = sum(w for w, _ in children) or 1.0
    progress = sum(w * s.progress for w, s in children) / weight
    if all(s.status == "done" for _, s in children):
        return Status(progress, "done")
    worst = max((s.status for _, s in children if s.status != "done"), key=SEVERITY.__getitem__)
    return Status(progress, "on_track" if worst == "no_data" else worst)


def rollup(
    *,
    goals: Iterable[GoalFacts],
    tasks: Iterable[TaskFacts],
    indicators: Iterable[IndicatorFacts],
    today: dt.date,
    tolerance: float = 0.1,
    horizon_days: int = 30,
) -> Rollup:
    """Statuses of every indicator, task and goal (see the module docstring for the rules)."""
    goal_list, task_list, ind_list = list(goals), list(tasks), list(indicators)
    ind_states = {i.id: indicator_status(i, today, tolerance) for i in ind_list}
    by_task: dict[int, list[Status]] = {}
    for ind in ind_list:
        if ind.task_id is not None:
            by_task.setdefault(ind.task_id, []).append(ind_states[ind.id])
    task_states = {
        t.id: task_status(t, today, by_task.get(t.id, ()), horizon_days) for t in task_list
    }
    children: dict[int | None, list[tuple[float, Status | int]]] = {}
    for t in task_list:
        children.setdefault(t.goal_id, []).append((t.weight, task_states[t.id]))
    for ind in ind_list:
        if ind.goal_id is not None and ind.task_id is None:
            children.setdefault(ind.goal_id, []).append((ind.weight, ind_states[ind.id]))
    for g in goal_list:
        children.setdefault(g.parent_id, []).append((g.weight, g.id))
    goal_states: dict[int, Status] = {}
    for goal_id in _post_order(goal_list):
        resolved = [
            (w, goal_states[c] if isinstance(c, int) else c) for w, c in children.get(goal_id, [])
        ]
        goal_states[goal_id] = _combine(resolved)
    return Rollup(goal_states, task_states, ind_states)


def _post_order(goals: list[GoalFacts]) -> list[int]:
    """Goal ids, children before parents (iterative: trees may be deep)."""
    kids: dict[int | None, list[int]] = {}
    for g in goals:
        kids.setdefault(g.parent_id, []).append(g.id)
    known = {g.id for g in goals}
    roots = [g.id for g in goals if g.parent_id is None or g.parent_id not in known]
    order: list[int] = []
    stack: list[tuple[int, bool]] = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids.get(node, []))
    return order
