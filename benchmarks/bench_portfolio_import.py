"""Portfolio import and stored screening on a fresh SQLite database.

    .venv/bin/python benchmarks/bench_portfolio_import.py [--copies 10]

Imports the NSF awards file (3,179 awards) and ``--copies`` perturbed copies of it (new award
IDs, every fifth word dropped) as one streamed file, re-imports it (nothing changes), imports
the NIH sample and the program inventory, runs a stored screen of the NSF awards in chunks with
the checkpoint written per chunk, and screens a batch of 100 proposals against that portfolio.
Prints rows per second, the peak resident memory and the pairs found.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from stcoord.auth.permissions import SYSTEM
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.portfolio import screening
from stcoord.portfolio.imports import import_projects

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def perturbed(copies: int, out: Path) -> int:
    lines = (DATA / "nsf" / "awards.jsonl").read_text(encoding="utf-8").rstrip("\n").split("\n")
    n = 0
    with out.open("w", encoding="utf-8") as handle:
        for copy in range(copies + 1):
            for line in lines:
                award = json.loads(line)
                if copy:
                    award["award_id"] = f"{award['award_id']}-c{copy}"
                    words = award["abstract"].split(" ")
                    award["abstract"] = " ".join(w for i, w in enumerate(words) if (i + copy) % 5)
                handle.write(json.dumps(award) + "\n")
                n += 1
    return n


def timed_import(db: Database, path: Path, **kw: object) -> tuple[float, object]:
    start = time.perf_counter()
    with db.scope() as session, path.open("rb") as stream:
        result = import_projects(session, SYSTEM, stream=stream, filename=path.name, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(make_engine(url))
        big = Path(tmp) / "awards-big.jsonl"
        rows = perturbed(args.copies, big)
        seconds, result = timed_import(db, big)
        print(f"import {rows:,} NSF-shaped rows: {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        print(f"  {result.created:,} projects, {result.investigators_created:,} investigators")  # type: ignore[attr-defined]
        seconds, result = timed_import(db, big)
        print(
            f"re-import the same file: {seconds:.1f} s, {result.unchanged:,} unchanged, "  # type: ignore[attr-defined]
            f"{result.updated} updated"  # type: ignore[attr-defined]
        )
        for path in (
            DATA / "nih" / "nih_sample.csv",
            DATA / "us-program-inventory" / "programs.jsonl",
        ):
            seconds, result = timed_import(db, path)
            print(f"import {path.name}: {result.created:,} rows in {seconds:.1f} s")  # type: ignore[attr-defined]
        with db.scope() as session:
            run_id = screening.create_run(session, SYSTEM, sources=["nsf"], chunk_size=20_000).id
        start = time.perf_counter()
        screening.execute_run(db, SYSTEM, run_id)
        seconds = time.perf_counter() - start
        with db.scope(write=False) as session:
            run = screening.get_run(session, SYSTEM, run_id)
            print(
                f"stored screen of {run.project_count:,} projects (threshold {run.threshold}): "
                f"{seconds:.1f} s, {run.chunks_total} chunks, {run.pair_count:,} pairs"
            )
        batch = Path(tmp) / "proposals.jsonl"
        lines = big.read_text(encoding="utf-8").rstrip("\n").split("\n")[:100]
        batch.write_text(
            "\n".join(
                json.dumps({**json.loads(x), "award_id": f"P{n}"}) for n, x in enumerate(lines)
            )
            + "\n"
        )
        timed_import(db, batch, source="proposals")
        with db.scope() as session:
            batch_id = screening.create_batch_run(session, SYSTEM, batch_source="proposals").id
        start = time.perf_counter()
        screening.execute_run(db, SYSTEM, batch_id)
        seconds = time.perf_counter() - start
        with db.scope(write=False) as session:
            found = screening.get_run(session, SYSTEM, batch_id).pair_count
        print(f"batch of 100 proposals against the portfolio: {seconds:.1f} s, {found} pairs")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
