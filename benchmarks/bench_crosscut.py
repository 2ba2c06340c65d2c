"""Crosscut at scale: 1,000,000 budget lines by agency x field x year.

Target (issue 4): under 1 s on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/bench_crosscut.py [--lines 1000000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from benchlib import (
    DEFAULT_POSTGRES_URL,
    note,
    postgres_available,
    postgres_database,
    repeat,
    rss_mb,
    sqlite_url,
    summary,
    timed,
    verdict,
)
from sqlalchemy import select

from stcoord.auth.permissions import SYSTEM
from stcoord.budget.classifications import seed_classifications
from stcoord.budget.crosscut import crosscut
from stcoord.budget.lines import LineRecord, replace_lines
from stcoord.budget.models import BudgetField, Classification
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database

SCHEME = "nitrd-pca-fy2020"
AGENCIES = [f"AG{i:02d}" for i in range(30)]
YEARS = list(range(2016, 2026))


def records(n: int, field_ids: list[int], seed: int = 3) -> Iterator[LineRecord]:
    """Lines spread over 30 agencies and 10 years, each split over one or two fields."""
    rng = random.Random(seed)
    for i in range(n):
        first = rng.choice(field_ids)
        second = rng.choice(field_ids)
        share = round(rng.uniform(0.2, 0.8), 2)
        shares = {first: 1.0} if first == second else {first: share, second: 1 - share}
        yield LineRecord(
            fiscal_year=YEARS[i % len(YEARS)],
            agency=AGENCIES[i % len(AGENCIES)],
            line_key=f"L{i}",
            title="line",
            currency="USD",
            amounts={
                "enacted": Decimal(rng.randrange(1_000, 10_000_000)) / 100,
                "request": Decimal(rng.randrange(1_000, 10_000_000)) / 100,
            },
            shares=shares,
        )


def build(url: str, n: int) -> Database:
    upgrade(url)
    db = Database(make_engine(url))
    with db.scope() as session:
        seed_classifications(session, SYSTEM)
        field_ids = list(
            session.scalars(
                select(BudgetField.id).join(Classification).where(Classification.key == SCHEME)
            )
        )
        replace_lines(session, jurisdiction="US", source="bench", records=records(n, field_ids))
    return db


def measure(label: str, url: str, n: int, runs: int) -> None:
    db, seconds = timed(lambda: build(url, n))
    note(f"{label}: built {n:,} lines in {seconds:.1f} s (peak RSS {rss_mb():.0f} MB)")

    def run() -> None:
        with db.scope(write=False) as session:
            result = crosscut(
                session,
                SYSTEM,
                jurisdiction="US",
                by=["agency", "field", "year"],
                phase="enacted",
                classification=SCHEME,
            )
            assert len(result.rows) >= len(AGENCIES) * len(YEARS)

    times = repeat(run, runs)
    note(f"{label}: crosscut agency x field x year: {summary(times)}")
    verdict(f"{label}: crosscut of {n:,} lines under 1 s", min(times) < 1.0)
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", sqlite_url(Path(tmp) / "cube.db"), args.lines, args.runs)
    if not args.no_postgres and postgres_available(args.postgres_url):
        with postgres_database(args.postgres_url, "stcoord_bench_cube") as url:
            measure("PostgreSQL", url, args.lines, args.runs)


if __name__ == "__main__":
    main()
