"""Time parsing and loading a large synthetic mechanism file (SQLite, and PostgreSQL if reachable).

Steps, each printed with its wall time and the process's peak RSS so far:

(a) parse + validate the YAML text (``parse_mechanism``);
(b) load it into a fresh SQLite file database, after ``upgrade`` (one write transaction);
(c) load the same spec again: an idempotent no-op;
(d) parse + load a variant where 1% of the bodies changed;
then the load step again under ``tracemalloc`` for its peak of Python allocations, and (b) on
PostgreSQL in a throwaway database.

Target (issue 2): parse + load under 10 s on SQLite, under 500 MB.

    .venv/bin/python benchmarks/bench_mechanism_load.py [--bodies 5000 --seats 25000 ...]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from benchlib import (
    DEFAULT_POSTGRES_URL,
    postgres_available,
    postgres_database,
    rss_mb,
    sqlite_url,
    timed,
    verdict,
)
from synthetic import SyntheticSizes, changed_indexes, synthetic_mechanism

from stcoord.auth.permissions import SYSTEM
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.institutions.mechanism_file import MechanismFile, parse_mechanism
from stcoord.institutions.service import LoadResult, load_mechanism


def parse(text: str) -> MechanismFile:
    return parse_mechanism(text, "synthetic.yaml")


def fresh_database(url: str) -> tuple[Database, float]:
    """Upgrade an empty database to head; return it and the time the upgrade took."""
    _, seconds = timed(lambda: upgrade(url))
    return Database(make_engine(url)), seconds


def load(db: Database, spec: MechanismFile) -> LoadResult:
    """One load in one write transaction, as ``stcoord mechanism load`` does it."""
    with db.scope(write=True) as session:
        return load_mechanism(session, SYSTEM, spec)


def traced_load(db: Database, spec: MechanismFile) -> tuple[float, float]:
    """Peak of Python allocations (MB) during one load, and its (tracing-inflated) time."""
    tracemalloc.start()
    try:
        _, seconds = timed(lambda: load(db, spec))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, seconds


def profile(label: str, fn: Callable[[], object], top: int) -> None:
    """Run ``fn`` under cProfile and print the ``top`` entries by cumulative time."""
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(f"--- cProfile of {label} (times inflated by profiling) ---")
    print(out.getvalue())


def describe(spec: MechanismFile) -> str:
    seats = sum(len(b.seats) for b in spec.bodies)
    mandates = sum(len(b.mandates) for b in spec.bodies)
    total = seats + mandates + len(spec.relations)
    return (
        f"{len(spec.bodies)} bodies, {seats} seats, {mandates} mandates, "
        f"{len(spec.relations)} relations ({total} seats+mandates+relations), "
        f"{len(spec.fields)} fields, {len(spec.procedures)} procedures"
    )


def step(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:<42} {seconds:8.2f} s   peak RSS {rss_mb():7.1f} MB   {extra}".rstrip())


def run_postgres(base_url: str, spec: MechanismFile) -> None:
    if not postgres_available(base_url):
        print(f"PostgreSQL at {base_url} not reachable: skipped")
        return
    with postgres_database(base_url) as url:
        db, up = fresh_database(url)
        try:
            step("(pg) upgrade empty database", up)
            result, seconds = timed(lambda: load(db, spec))
            step("(b-pg) load into fresh PostgreSQL", seconds, f"created={result.created}")
            result, seconds = timed(lambda: load(db, spec))
            step("(c-pg) reload same spec (no-op)", seconds, f"changed={result.changed}")
        finally:
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=5000)
    parser.add_argument("--seats", type=int, default=25000)
    parser.add_argument("--mandates", type=int, default=15000)
    parser.add_argument("--relations", type=int, default=10000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of bodies for (d)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print cProfile top N")
    parser.add_argument("--target-seconds", type=float, default=10.0)
    parser.add_argument("--target-mb", type=float, default=500.0)
    args = parser.parse_args()

    sizes = SyntheticSizes(args.bodies, args.seats, args.mandates, args.relations)
    changed = changed_indexes(sizes, args.changed)
    text, seconds = timed(lambda: synthetic_mechanism(sizes))
    text_changed = synthetic_mechanism(sizes, changed)
    print(f"synthetic file: {len(text) / 2**20:.1f} MB of YAML, {text.count(chr(10))} lines")
    step("generate YAML text (not measured)", seconds)

    spec, parse_s = timed(lambda: parse(text))
    print(f"mechanism: {describe(spec)}")
    step("(a) parse + validate", parse_s)

    with tempfile.TemporaryDirectory(prefix="stcoord-bench-") as tmp:
        db, up = fresh_database(sqlite_url(Path(tmp) / "load.db"))
        try:
            step("upgrade empty SQLite database", up)
            result, load_s = timed(lambda: load(db, spec))
            step("(b) load into fresh SQLite", load_s, f"created={result.created}")
            rss_after_load = rss_mb()
            result, seconds = timed(lambda: load(db, spec))
            step("(c) reload same spec (idempotent)", seconds, f"changed={result.changed}")
            spec2, parse2_s = timed(lambda: parse(text_changed))
            result, load2_s = timed(lambda: load(db, spec2))
            step(
                f"(d) parse + load, {len(changed)} bodies changed",
                parse2_s + load2_s,
                f"parse {parse2_s:.2f} s + load {load2_s:.2f} s; "
                f"bodies_changed={len(result.bodies_changed)}",
            )
        finally:
            db.engine.dispose()

        if not args.no_tracemalloc:
            db, _ = fresh_database(sqlite_url(Path(tmp) / "traced.db"))
            try:
                peak, seconds = traced_load(db, spec)
                step("(b) again under tracemalloc", seconds, f"traced peak {peak:.1f} MB")
            finally:
                db.engine.dispose()

        if args.profile:
            profile("(a) parse + validate", lambda: parse(text), args.profile)
            db, _ = fresh_database(sqlite_url(Path(tmp) / "profiled.db"))
            try:
                profile("(b) load into fresh SQLite", lambda: load(db, spec), args.profile)
            finally:
                db.engine.dispose()

    if not args.no_postgres:
        run_postgres(args.postgres_url, spec)

    total = parse_s + load_s
    print(f"parse + load on SQLite: {total:.2f} s; peak RSS after load {rss_after_load:.1f} MB")
    verdict(
        f"parse + load on SQLite < {args.target_seconds:g} s ({total:.2f} s)",
        total < args.target_seconds,
    )
    verdict(
        f"load step alone on SQLite < {args.target_seconds:g} s ({load_s:.2f} s)",
        load_s < args.target_seconds,
    )
    verdict(
        f"peak RSS through parse + load < {args.target_mb:g} MB ({rss_after_load:.0f} MB)",
        rss_after_load < args.target_mb,
    )


if __name__ == "__main__":
    main()
