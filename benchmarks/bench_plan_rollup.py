"""Plan at scale: 10,000 tasks, 50,000 milestones, 200,000 indicator measurements.

Targets (issue 3): status roll-up of the whole tree under 1 s; the plan page renders under
300 ms; the dossier PDF under 30 s.

    .venv/bin/python benchmarks/bench_plan_rollup.py [--tasks 10000] [--measurements 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
from pathlib import Path

from benchlib import MINI_FIXTURE, note, repeat, rss_mb, sqlite_url, summary, timed, verdict
from sqlalchemy import insert, select

from stcoord.auth.permissions import SYSTEM
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.models import Body
from stcoord.institutions.service import load_mechanism
from stcoord.plans import service
from stcoord.plans.models import Goal, Indicator, Measurement, Milestone, Task
from stcoord.plans.status import compute_rollup, plan_status

PLAN = "bench-plan"
START = dt.date(2021, 4, 1)


def build(
    db: Database,
    tasks: int,
    milestones_per_task: int,
    indicators: int,
    measurements: int,
    seed: int = 7,
) -> None:
    """A 10 x 10 x 10 goal tree, tasks under the targets, milestones, indicators with values."""
    rng = random.Random(seed)
    with db.scope() as session:
        load_mechanism(session, SYSTEM, parse_mechanism(MINI_FIXTURE.read_text()))
        plan = service.open_plan(
            session,
            SYSTEM,
            code="XA",
            template_key="ai_plan",
            key=PLAN,
            title="Benchmark plan",
            opened_on=START,
        )
        bodies = list(
            session.scalars(select(Body.id).where(Body.key.in_(["research", "finance", "agency"])))
        )
        goal_ids = _goals(session, plan.id)
        leaves = goal_ids[-1000:]
        session.execute(
            insert(Task),
            [
                {
                    "plan_id": plan.id,
                    "code": f"T{i}",
                    "title": f"Task {i}",
                    "goal_id": leaves[i % 1000],
                    "lead_body_id": bodies[i % len(bodies)],
                    "weight": 1.0,
                    "version": 1,
                }
                for i in range(tasks)
            ],
        )
        task_ids = list(session.scalars(select(Task.id).where(Task.plan_id == plan.id)))
        session.execute(
            insert(Milestone),
            [
                {
                    "task_id": t,
                    "code": f"M{j}",
                    "title": "m",
                    "version": 1,
                    "weight": 1.0,
                    "due": START + dt.timedelta(days=rng.randrange(1800)),
                    "completed_on": START + dt.timedelta(days=rng.randrange(900))
                    if rng.random() < 0.4
                    else None,
                }
                for t in task_ids
                for j in range(milestones_per_task)
            ],
        )
        session.execute(
            insert(Indicator),
            [
                {
                    "plan_id": plan.id,
                    "code": f"I{i}",
                    "name": f"Indicator {i}",
                    "unit": "u",
                    "baseline": 0.0,
                    "target": 100.0,
                    "direction": "increase",
                    "version": 1,
                    "weight": 1.0,
                    "baseline_date": START,
                    "deadline": dt.date(2026, 3, 31),
                    "task_id": task_ids[i % len(task_ids)] if i % 2 else None,
                    "goal_id": None if i % 2 else leaves[i % 1000],
                    "names": {},
                }
                for i in range(indicators)
            ],
        )
        ind_ids = list(session.scalars(select(Indicator.id).where(Indicator.plan_id == plan.id)))
        per = measurements // len(ind_ids)
        session.execute(
            insert(Measurement),
            [
                {
                    "indicator_id": i,
                    "on_date": START + dt.timedelta(days=7 * k),
                    "value": float(k) * rng.uniform(0.1, 1.0),
                    "reported_by": "bench",
                }
                for i in ind_ids
                for k in range(per)
            ],
        )


def _goals(session, plan_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    ids: list[int] = []
    level: list[int | None] = [None]
    for depth, kind in enumerate(("goal", "objective", "target")):
        nxt: list[int | None] = []
        for parent in level:
            for k in range(10):
                goal = Goal(
                    plan_id=plan_id,
                    parent_id=parent,
                    code=f"{kind}-{len(ids)}",
                    kind=kind,
                    seq=len(ids),
                    title=f"{kind} {k}",
                    weight=1.0,
                    names={},
                )
                session.add(goal)
                session.flush()
                ids.append(goal.id)
                nxt.append(goal.id)
        level = nxt
        _ = depth
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--milestones-per-task", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=2_000)
    parser.add_argument("--measurements", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp) / "plan.db")
        upgrade(url)
        db = Database(make_engine(url))
        _, seconds = timed(
            lambda: build(
                db, args.tasks, args.milestones_per_task, args.indicators, args.measurements
            )
        )
        note(
            f"built plan: {args.tasks} tasks, {args.tasks * args.milestones_per_task} "
            f"milestones, {args.indicators} indicators, {args.measurements} measurements "
            f"in {seconds:.1f} s"
        )
        today = dt.date(2024, 6, 1)

        def rollup_only() -> None:
            with db.scope(write=False) as session:
                compute_rollup(session, service.get_plan(session, SYSTEM, PLAN), today)

        def full_status() -> None:
            with db.scope(write=False) as session:
                plan_status(session, SYSTEM, PLAN, today)

        times = repeat(rollup_only, args.runs)
        note(f"roll-up (queries + analytics): {summary(times)}")
        verdict("roll-up of the whole tree under 1 s", min(times) < 1.0)
        times = repeat(full_status, args.runs)
        note(f"plan status (roll-up + gate + goal rows): {summary(times)}")
        _page_timing(db, url, args.runs)
        _pdf_timing(db, today)
        note(f"peak RSS {rss_mb():.0f} MB")
        db.engine.dispose()


def _page_timing(db: Database, url: str, runs: int) -> None:
    from fastapi.testclient import TestClient

    from stcoord.config import Settings
    from stcoord.web.app import create_app

    client = TestClient(create_app(Settings(database_url=url), db))
    if client.get(f"/plans/{PLAN}").status_code == 404:
        note("plan page not available yet (404); skipped")
        return
    times = repeat(lambda: client.get(f"/plans/{PLAN}"), runs)
    note(f"plan page GET /plans/{PLAN}: {summary(times)}")
    verdict("plan page renders under 300 ms", min(times) < 0.3)


def _pdf_timing(db: Database, today: dt.date) -> None:
    from stcoord.plans.pages import build_dossier_pdf, build_progress_pdf

    for label, build in (("dossier", build_dossier_pdf), ("progress report", build_progress_pdf)):
        with db.scope(write=False) as session:
            pdf, seconds = timed(lambda b=build, s=session: b(s, SYSTEM, PLAN, today=today))
        note(f"{label} PDF: {seconds:.1f} s, {len(pdf) // 1024} KiB")
        if label == "dossier":
            verdict("dossier PDF under 30 s", seconds < 30)


if __name__ == "__main__":
    main()
