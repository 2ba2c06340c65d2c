"""Budget import at scale: 1,000,000 lines from one CSV through the generic mapping.

Target (issue 4): import 1,000,000 lines from CSV under 60 s with memory under 1 GB, streamed.
The CSV is generated in a temporary directory (100 agencies, 2,000 programs, five fiscal years,
every phase filled, a few percent of lines steered) and imported into a fresh SQLite database
migrated to head. Reported: wall time of reading and checking alone (``dry_run``), wall time of
the whole import (read, check, write, commit), and the process's peak RSS.

    .venv/bin/python benchmarks/bench_budget_import.py [--lines 1000000] [--shares 0|2]

``--shares 2`` adds two share columns per line (a NITRD-like classification), so the import
also writes two ``budget_share`` rows per line.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from benchlib import note, rss_mb, sqlite_url, verdict
from sqlalchemy import func, select

from stcoord.auth.permissions import SYSTEM
from stcoord.budget.classifications import ClassificationFile, FieldSpec, load_classification
from stcoord.budget.imports import import_budget, shipped_mapping
from stcoord.budget.models import BudgetLine, BudgetShare
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database

FIELDS = ["AI", "CSP", "HCIA", "LSN", "EdW"]


def generate(path: Path, lines: int, shares: int, seed: int = 11) -> int:
    """Write the CSV; returns its size in bytes."""
    rng = random.Random(seed)
    share_columns = [f"share:{f}" for f in FIELDS] if shares else []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "fiscal_year",
                "agency",
                "program",
                "line_key",
                "title",
                "request",
                "estimate",
                "enacted",
                "actual",
                "steered_by",
                *share_columns,
            ]
        )
        for i in range(lines):
            agency = i % 100
            enacted = rng.randrange(10_000, 500_000_000) / 100
            row = [
                2021 + i % 5,
                f"AG{agency:03d}",
                f"AG{agency:03d}-P{i % 2000:04d}",
                f"L{i // 5:07d}",
                f"Budget line {i // 5} of agency {agency}",
                f"{enacted * rng.uniform(0.9, 1.2):.2f}",
                f"{enacted * rng.uniform(0.95, 1.05):.2f}",
                f"{enacted:.2f}",
                f"{enacted * rng.uniform(0.7, 1.0):.2f}",
                "SIP" if rng.random() < 0.03 else "",
            ]
            if shares:
                cells = [""] * len(FIELDS)
                first, second = rng.sample(range(len(FIELDS)), 2)
                cells[first], cells[second] = "60", "40"
                row += cells
            writer.writerow(row)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--shares", type=int, choices=(0, 2), default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="stcoord-bench-import-") as tmp:
        csv_path = Path(tmp) / "lines.csv"
        start = time.perf_counter()
        size = generate(csv_path, args.lines, args.shares)
        note(
            f"generated {args.lines:,} lines ({size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        url = sqlite_url(Path(tmp) / "bench.db")
        upgrade(url)
        db = Database(make_engine(url))
        mapping = shipped_mapping("generic")
        classification = None
        if args.shares:
            classification = "bench-fields"
            with db.scope() as session:
                spec = ClassificationFile(
                    key=classification,
                    name="Benchmark fields",
                    jurisdiction="US",
                    fields=[FieldSpec(key=f, name=f) for f in FIELDS],
                )
                load_classification(session, SYSTEM, spec)
        data = csv_path.read_bytes()
        note(f"after reading the file: peak RSS {rss_mb():.0f} MB")

        start = time.perf_counter()
        with db.scope() as session:
            checked = import_budget(
                session,
                SYSTEM,
                mapping=mapping,
                data=data,
                filename="lines.csv",
                source="bench",
                classification_key=classification,
                dry_run=True,
            )
        check_time = time.perf_counter() - start
        note(
            f"read and check only: {checked.lines:,} lines, {checked.problem_count} problems in "
            f"{check_time:.1f} s (peak RSS so far {rss_mb():.0f} MB)"
        )

        start = time.perf_counter()
        with db.scope() as session:
            result = import_budget(
                session,
                SYSTEM,
                mapping=mapping,
                data=data,
                filename="lines.csv",
                source="bench",
                classification_key=classification,
            )
        wall = time.perf_counter() - start
        peak = rss_mb()
        with db.scope(write=False) as session:
            stored = session.scalar(select(func.count(BudgetLine.id)))
            share_rows = session.scalar(select(func.count(BudgetShare.id)))
        note(
            f"import: {result.lines:,} lines ({stored:,} stored, {share_rows:,} share rows) "
            f"in {wall:.1f} s, {result.lines / wall:,.0f} lines/s; peak RSS {peak:.0f} MB"
        )
        note("totals: " + ", ".join(f"{p} {v:,}" for p, v in result.totals.items()))
        db.engine.dispose()
    ok = verdict(f"{args.lines:,} lines under 60 s", wall < 60)
    ok = verdict("peak RSS under 1 GB", peak < 1024) and ok
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
