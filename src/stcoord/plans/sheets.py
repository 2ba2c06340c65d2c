"""CSV/XLSX round trips of a plan's tasks, milestones and indicator values.

Imports check every row first and report every problem with its row and column; only a clean
file is written, through the same services (and audit) as single edits. Rows whose key exists
are updated, others created, so an exported sheet can be edited and imported back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stcoord.auth.permissions import Actor, require
from stcoord.errors import ValidationFailed
from stcoord.institutions.models import Body
from stcoord.plans import service
from stcoord.plans.models import Goal, Indicator, Measurement, Milestone, Plan, Task, TaskSupport
from stcoord.tabular import Row, date_cell, number_cell, text_cell

SHEETS: dict[str, list[str]] = {
    "tasks": [
        "code",
        "title",
        "goal",
        "lead_body",
        "supporting",
        "weight",
        "budget_link",
        "description",
    ],
    "milestones": ["task", "code", "title", "due", "completed_on", "weight"],
    "indicator_values": ["indicator", "date", "value", "source"],
}


@dataclass(frozen=True)
class ImportResult:
    sheet: str
    created: int
    updated: int


def _check_sheet(sheet: str) -> list[str]:
    if sheet not in SHEETS:
        raise ValidationFailed([("sheet", f"unknown sheet {sheet!r}; use one of {list(SHEETS)}")])
    return SHEETS[sheet]


def _keys(session: Session, plan: Plan) -> dict[str, dict[Any, Any]]:
    """Lookups an import or export needs, each in one query."""
    return {
        "body_key": dict(
            session.execute(
                select(Body.id, Body.key).where(Body.jurisdiction_id == plan.jurisdiction_id)
            ).all()
        ),
        "goal_code": dict(
            session.execute(select(Goal.id, Goal.code).where(Goal.plan_id == plan.id)).all()
        ),
        "task_code": dict(
            session.execute(select(Task.id, Task.code).where(Task.plan_id == plan.id)).all()
        ),
        "indicator_code": dict(
            session.execute(
                select(Indicator.id, Indicator.code).where(Indicator.plan_id == plan.id)
            ).all()
        ),
    }


def export_sheet(
    session: Session, actor: Actor, plan_key: str, sheet: str
) -> tuple[list[str], list[list[Any]]]:
    headers = _check_sheet(sheet)
    plan = service.get_plan(session, actor, plan_key)
    k = _keys(session, plan)
    if sheet == "tasks":
        support: dict[int, list[str]] = {}
        for task_id, body_id in session.execute(
            select(TaskSupport.task_id, TaskSupport.body_id)
            .join(Task)
            .where(Task.plan_id == plan.id)
        ):
            support.setdefault(task_id, []).append(k["body_key"][body_id])
        rows = [
            [
                t.code,
                t.title,
                k["goal_code"].get(t.goal_id),
                k["body_key"].get(t.lead_body_id),
                sorted(support.get(t.id, [])),
                t.weight,
                t.budget_link,
                t.description,
            ]
            for t in session.scalars(
                select(Task).where(Task.plan_id == plan.id).order_by(Task.code)
            )
        ]
    elif sheet == "milestones":
        rows = [
            [k["task_code"][m.task_id], m.code, m.title, m.due, m.completed_on, m.weight]
            for m in session.scalars(
                select(Milestone)
                .join(Task)
                .where(Task.plan_id == plan.id)
                .order_by(Task.code, Milestone.due, Milestone.code)
            )
        ]
    else:
        rows = [
            [k["indicator_code"][m.indicator_id], m.on_date, m.value, m.source]
            for m in session.scalars(
                select(Measurement)
                .join(Indicator)
                .where(Indicator.plan_id == plan.id)
                .order_by(Indicator.code, Measurement.on_date)
            )
        ]
    return headers, rows


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.items.append(
            {"row": row, "column": column, "path": f"row {row}, {column}", "message": message}
        )

    def parse(self, row: Row, column: str, parse: Callable[[Any], Any], required: bool) -> Any:
        try:
            value = parse(row.values.get(column))
        except ValueError as exc:
            self.add(row.number, column, str(exc))
            return None
        if required and value in (None, ""):
            self.add(row.number, column, "is required")
        return value


def import_sheet(
    session: Session,
    actor: Actor,
    plan_key: str,
    sheet: str,
    headers: list[str],
    rows: list[Row],
) -> ImportResult:
    """Validate every row, then write them all (in the caller's transaction) or nothing."""
    expected = _check_sheet(sheet)
    plan = service.get_plan(session, actor, plan_key)
    require(actor, "plan.manage", plan)
    missing = [h for h in expected if h not in headers]
    if missing:
        raise ValidationFailed(
            [
                {"row": 1, "column": h, "path": f"row 1, {h}", "message": "column missing"}
                for h in missing
            ]
        )
    k = _keys(session, plan)
    problems = _Problems()
    parsed = [_PARSERS[sheet](row, k, problems) for row in rows]
    seen: dict[tuple[Any, ...], int] = {}
    for row, item in zip(rows, parsed, strict=True):
        key = item["_key"]
        if key in seen:
            problems.add(row.number, expected[0], f"duplicate of row {seen[key]}")
        seen.setdefault(key, row.number)
    if problems.items:
        raise ValidationFailed(problems.items)
    created = updated = 0
    for item in parsed:
        if _WRITERS[sheet](session, actor, plan_key, item):
            created += 1
        else:
            updated += 1
    return ImportResult(sheet, created, updated)


def _lookup(value: str, table: dict[Any, Any]) -> bool:
    return value in set(table.values())


def _parse_task(row: Row, k: dict[str, dict[Any, Any]], p: _Problems) -> dict[str, Any]:
    code = p.parse(row, "code", text_cell, True)
    item = {
        "_key": (code,),
        "code": code,
        "title": p.parse(row, "title", text_cell, True),
        "goal": p.parse(row, "goal", text_cell, False) or None,
        "lead_body": p.parse(row, "lead_body", text_cell, False) or None,
        "supporting": [
            s.strip() for s in text_cell(row.values.get("supporting")).split(";") if s.strip()
        ],
        "weight": p.parse(row, "weight", number_cell, False),
        "budget_link": p.parse(row, "budget_link", text_cell, False) or None,
        "description": p.parse(row, "description", text_cell, False) or None,
    }
    if item["goal"] and not _lookup(item["goal"], k["goal_code"]):
        p.add(row.number, "goal", f"unknown goal {item['goal']!r}")
    for column, keys in (("lead_body", [item["lead_body"]]), ("supporting", item["supporting"])):
        for key in keys:
            if key and not _lookup(key, k["body_key"]):
                p.add(row.number, column, f"unknown body {key!r}")
    if item["weight"] is not None and item["weight"] < 0:
        p.add(row.number, "weight", "must not be negative")
    return item


def _parse_milestone(row: Row, k: dict[str, dict[Any, Any]], p: _Problems) -> dict[str, Any]:
    task = p.parse(row, "task", text_cell, True)
    code = p.parse(row, "code", text_cell, True)
    if task and not _lookup(task, k["task_code"]):
        p.add(row.number, "task", f"unknown task {task!r}")
    return {
        "_key": (task, code),
        "task": task,
        "code": code,
        "title": p.parse(row, "title", text_cell, True),
        "due": p.parse(row, "due", date_cell, True),
        "completed_on": p.parse(row, "completed_on", date_cell, False),
        "weight": p.parse(row, "weight", number_cell, False),
    }


def _parse_value(row: Row, k: dict[str, dict[Any, Any]], p: _Problems) -> dict[str, Any]:
    indicator = p.parse(row, "indicator", text_cell, True)
    if indicator and not _lookup(indicator, k["indicator_code"]):
        p.add(row.number, "indicator", f"unknown indicator {indicator!r}")
    on_date = p.parse(row, "date", date_cell, True)
    return {
        "_key": (indicator, on_date),
        "indicator": indicator,
        "date": on_date,
        "value": p.parse(row, "value", number_cell, True),
        "source": p.parse(row, "source", text_cell, False) or None,
    }


def _write_task(session: Session, actor: Actor, plan_key: str, item: dict[str, Any]) -> bool:
    plan = service.get_plan(session, actor, plan_key)
    existing = session.scalar(
        select(Task).where(Task.plan_id == plan.id, Task.code == item["code"])
    )
    if existing is None:
        service.add_task(
            session,
            actor,
            plan_key=plan_key,
            code=item["code"],
            title=item["title"],
            goal=item["goal"],
            lead_body=item["lead_body"],
            supporting=item["supporting"],
            weight=item["weight"] or 1.0,
            budget_link=item["budget_link"],
            description=item["description"],
        )
        return True
    changes = {
        name: item[name]
        for name in ("title", "budget_link", "description")
        if item[name] != getattr(existing, name)
    }
    if item["weight"] is not None and item["weight"] != existing.weight:
        changes["weight"] = item["weight"]
    if changes:
        service.update_task(
            session,
            actor,
            plan_key=plan_key,
            code=item["code"],
            expected_version=existing.version,
            changes=changes,
        )
    return False


def _write_milestone(session: Session, actor: Actor, plan_key: str, item: dict[str, Any]) -> bool:
    task = service.get_task(session, actor, plan_key, item["task"])
    existing = session.scalar(
        select(Milestone).where(Milestone.task_id == task.id, Milestone.code == item["code"])
    )
    if existing is None:
        service.add_milestone(
            session,
            actor,
            plan_key=plan_key,
            task_code=item["task"],
            code=item["code"],
            title=item["title"],
            due=item["due"],
            weight=item["weight"] or 1.0,
            completed_on=item["completed_on"],
        )
        return True
    if item["completed_on"] and item["completed_on"] != existing.completed_on:
        service.complete_milestone(
            session,
            actor,
            plan_key=plan_key,
            task_code=item["task"],
            code=item["code"],
            completed_on=item["completed_on"],
        )
    return False


def _write_value(session: Session, actor: Actor, plan_key: str, item: dict[str, Any]) -> bool:
    indicator = service.get_indicator(session, actor, plan_key, item["indicator"])
    existing = session.scalar(
        select(Measurement).where(
            Measurement.indicator_id == indicator.id, Measurement.on_date == item["date"]
        )
    )
    if existing is None:
        service.record_measurement(
            session,
            actor,
            plan_key=plan_key,
            indicator=item["indicator"],
            on_date=item["date"],
            value=item["value"],
            source=item["source"],
        )
        return True
    if existing.value != item["value"]:
        service.correct_measurement(
            session, actor, measurement=existing, value=item["value"], source=item["source"]
        )
    return False


_PARSERS = {"tasks": _parse_task, "milestones": _parse_milestone, "indicator_values": _parse_value}
_WRITERS = {"tasks": _write_task, "milestones": _write_milestone, "indicator_values": _write_value}
