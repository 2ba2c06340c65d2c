"""Alignment check of a plan: tasks missing what makes them accountable, and bodies named in the
plan that hold no mandate for its work (GAO found only 2 of 29 agency goals supporting a
cross-agency goal said so).

>>> report = check_alignment(
...     tasks=[TaskLinks(1, "T1", lead_body=None, indicator_count=0, budget_link=None)],
...     mandates={}, plan_fields=("ai",))
>>> [i.problem for i in report.issues]
['no lead body', 'no indicator', 'no budget link']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

WORK_POWERS = ("implement", "coordinate", "decide", "allocate", "evaluate")


@dataclass(frozen=True)
class TaskLinks:
    id: int
    code: str
    lead_body: str | None
    indicator_count: int
    budget_link: str | None
    supporting_bodies: tuple[str, ...] = ()


@dataclass(frozen=True)
class MandateScope:
    power: str
    scope: str | tuple[str, ...]


@dataclass(frozen=True)
class AlignmentIssue:
    task_id: int | None
    task: str | None
    body: str | None
    problem: str


@dataclass(frozen=True)
class AlignmentReport:
    issues: tuple[AlignmentIssue, ...]
    tasks_checked: int

    @property
    def aligned_share(self) -> float:
        flagged = {i.task_id for i in self.issues if i.task_id is not None}
        return 1.0 - len(flagged) / self.tasks_checked if self.tasks_checked else 1.0


def _has_mandate(scopes: Iterable[MandateScope], fields: tuple[str, ...]) -> bool:
    for m in scopes:
        if m.power not in WORK_POWERS:
            continue
        if m.scope == "all" or not fields or any(f in m.scope for f in fields):
            return True
    return False


def check_alignment(
    *,
    tasks: Iterable[TaskLinks],
    mandates: Mapping[str, Iterable[MandateScope]],
    plan_fields: tuple[str, ...] = (),
) -> AlignmentReport:
    """List tasks with no lead body, indicator or budget link, and named bodies with no mandate
    (power to implement, coordinate, decide, allocate or evaluate) covering the plan's fields."""
    issues: list[AlignmentIssue] = []
    checked = 0
    named: dict[str, list[TaskLinks]] = {}
    for t in tasks:
        checked += 1
        if t.lead_body is None:
            issues.append(AlignmentIssue(t.id, t.code, None, "no lead body"))
        if t.indicator_count == 0:
            issues.append(AlignmentIssue(t.id, t.code, None, "no indicator"))
        if not t.budget_link:
            issues.append(AlignmentIssue(t.id, t.code, None, "no budget link"))
        for body in (t.lead_body, *t.supporting_bodies):
            if body:
                named.setdefault(body, []).append(t)
    for body, body_tasks in sorted(named.items()):
        if not _has_mandate(mandates.get(body, ()), plan_fields):
            codes = ", ".join(t.code for t in body_tasks[:5])
            issues.append(
                AlignmentIssue(
                    None,
                    None,
                    body,
                    f"named in {len(body_tasks)} task(s) ({codes}) but holds no "
                    "mandate for this work",
                )
            )
    return AlignmentReport(tuple(issues), checked)
