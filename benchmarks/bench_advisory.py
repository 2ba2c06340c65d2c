"""Advisory tracker at scale: 200 reports x 25 recommendations (5,000), each with a response,
a third linked to a plan task, a fifth with a status change.

Measures (SQLite, services as the API calls them): the import of 25 recommendations through
the CSV path, the whole tracker (every row with response, tasks), adoption per body, the first
page of the tracker list sorted by number (sorting every whole row, as before, and sorting plain
keys then loading the page's rows, as the API and the page do; both give the same rows for every
sort), and the tracker PDF.

    .venv/bin/python benchmarks/bench_advisory.py [--reports 200] [--per-report 25]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchlib import MINI_FIXTURE, repeat, rss_mb, sqlite_url, summary, timed

from stcoord.advisory import service
from stcoord.advisory.pages import build_tracker_pdf
from stcoord.analytics.adoption import Outcome, adoption_by_body
from stcoord.auth.permissions import SYSTEM
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.service import load_mechanism
from stcoord.plans import service as plans
from stcoord.web.pagination import sort_rows

POSITIONS = ("accept", "partly_accept", "reject", "under_consideration")


def build(db: Database, reports: int, per_report: int) -> float:
    with db.scope() as session:
        load_mechanism(session, SYSTEM, parse_mechanism(MINI_FIXTURE.read_text("utf-8")))
        plans.open_plan(session, SYSTEM, code="XA", template_key="ai_plan", key="p", title="P")
        for t in range(20):
            plans.add_task(session, SYSTEM, plan_key="p", code=f"T{t}", title=f"Task {t}")
    import_times = []
    for r in range(reports):
        with db.scope() as session:
            key = f"r{r}"
            service.file_report(
                session, SYSTEM, code="XA", body="ai_panel", key=key, title=f"Report {r}"
            )
            rows = "".join(
                f"{n},Recommendation {r}.{n},research\n" for n in range(1, per_report + 1)
            )
            data = ("number,text,addressed_to\n" + rows).encode()
            start = time.perf_counter()
            service.import_recommendations(
                session, SYSTEM, report_key=key, data=data, filename="r.csv"
            )
            import_times.append(time.perf_counter() - start)
            for n in range(1, per_report + 1):
                number = str(n)
                service.respond(
                    session,
                    SYSTEM,
                    report_key=key,
                    number=number,
                    position=POSITIONS[(r + n) % 4],
                    text="Response",
                    on_date=dt.date(2024, 1, 1),
                )
                if n % 3 == 0:
                    service.link_task(
                        session,
                        SYSTEM,
                        report_key=key,
                        number=number,
                        plan_key="p",
                        task_code=f"T{n % 20}",
                    )
                if n % 5 == 0:
                    service.set_status(
                        session,
                        SYSTEM,
                        report_key=key,
                        number=number,
                        status="fully_addressed",
                        on_date=dt.date(2025, 1, 1),
                        evidence="done",
                        benefit_amount=1000,
                        benefit_currency="USD",
                    )
    return sorted(import_times)[len(import_times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--per-report", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp) / "bench.db")
        upgrade(url)
        db = Database(make_engine(url))
        (median_import, built) = timed(lambda: build(db, args.reports, args.per_report))
        total = args.reports * args.per_report
        print(f"built {total} recommendations in {built:.1f} s")
        print(
            f"import of {args.per_report} recommendations (CSV): "
            f"median {median_import * 1000:.1f} ms"
        )
        with db.scope(write=False) as session:
            rows, took = timed(lambda: service.tracker_rows(session, SYSTEM))
            assert len(rows) == total
            print(f"tracker rows ({len(rows)}), first call: {took * 1000:.0f} ms")

        def tracker() -> None:
            with db.scope(write=False) as session:
                service.tracker_rows(session, SYSTEM)

        def adoption() -> None:
            with db.scope(write=False) as session:
                service.adoption(session, SYSTEM)

        def page_of_all_rows(sort: str | None, **filters: str) -> list[int]:
            """The list page as it was built before: every whole row, sorted, then cut."""
            with db.scope(write=False) as session:
                rows = service.tracker_rows(session, SYSTEM, service.TrackerFilter(**filters))
                return [r.rec.id for r in sort_rows(rows, sort, service.TRACKER_SORTS)[:50]]

        def page_of_keys(sort: str | None, **filters: str) -> list[int]:
            """The list page as the API and the page build it: plain keys sorted and cut, then
            whole rows for the page only."""
            with db.scope(write=False) as session:
                keys = sort_rows(
                    service.tracker_keys(session, SYSTEM, service.TrackerFilter(**filters)),
                    sort,
                    service.TRACKER_SORTS,
                )
                rows = service.tracker_rows_for(session, SYSTEM, [k.id for k in keys[:50]])
                return [r.rec.id for r in rows]

        for sort in (None, *service.TRACKER_SORTS, *(f"-{s}" for s in service.TRACKER_SORTS)):
            for filters in ({}, {"status": "open"}, {"position": "reject"}):
                assert page_of_keys(sort, **filters) == page_of_all_rows(sort, **filters), sort
        print("tracker list pages: same rows as sorting every whole row, for every sort")

        print("tracker rows:", summary(repeat(tracker, 5)))
        print("adoption per body:", summary(repeat(adoption, 5)))
        print(
            "tracker list page (open, sorted by -number), every whole row:",
            summary(repeat(lambda: page_of_all_rows("-number", status="open"), 5)),
        )
        print(
            "tracker list page (open, sorted by -number), keys then the page's rows:",
            summary(repeat(lambda: page_of_keys("-number", status="open"), 5)),
        )
        print(
            "tracker list page (all, sorted by status), keys then the page's rows:",
            summary(repeat(lambda: page_of_keys("status"), 5)),
        )
        outcomes = [Outcome(f"B{i % 50}", POSITIONS[i % 4], "open") for i in range(1_000_000)]
        _, pure = timed(lambda: adoption_by_body(outcomes))
        print(f"adoption_by_body over 1,000,000 outcomes: {pure * 1000:.0f} ms")
        with db.scope(write=False) as session:
            pdf, took = timed(lambda: build_tracker_pdf(session, SYSTEM, "en"))
        print(f"tracker PDF ({len(pdf) // 1024} KiB): {took:.1f} s")
        print(f"peak RSS {rss_mb():.0f} MB")
        db.engine.dispose()


if __name__ == "__main__":
    main()
