"""Time a diagnosis of every strategic field of the reference mechanisms, all together.

Two paths are timed, each repeated (best / median / worst printed):

* pure: ``facts_from_spec`` + ``analytics.diagnosis.diagnose`` over the parsed files;
* service: ``diagnose_jurisdiction`` in one read transaction on a database holding the three
  mechanisms (each call exports the stored mechanism, then diagnoses it), on SQLite and, if
  reachable, PostgreSQL; plus ``compare_jurisdictions`` of all the codes for every field.

Target (issue 2): a diagnosis of every field of the three reference mechanisms together < 1 s.

    .venv/bin/python benchmarks/bench_diagnosis.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchlib import (
    DEFAULT_POSTGRES_URL,
    MINI_FIXTURE,
    REFERENCE_DIR,
    postgres_available,
    postgres_database,
    repeat,
    sqlite_url,
    summary,
    timed,
    verdict,
)

from stcoord.analytics.diagnosis import diagnose
from stcoord.auth.permissions import ANONYMOUS, SYSTEM
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.institutions.diagnosis import (
    compare_jurisdictions,
    diagnose_jurisdiction,
    facts_from_spec,
)
from stcoord.institutions.mechanism_file import MechanismFile, parse_mechanism
from stcoord.institutions.service import load_mechanism


def mechanism_files() -> tuple[list[Path], bool]:
    """The reference files, or the test fixture if there are none yet (flagged)."""
    files = sorted(REFERENCE_DIR.glob("*.yaml"))
    return (files, True) if files else ([MINI_FIXTURE], False)


def parse_all(files: list[Path]) -> list[MechanismFile]:
    return [parse_mechanism(f.read_text(encoding="utf-8"), f.name) for f in files]


def pure_run(specs: list[MechanismFile]) -> int:
    """Every field of every mechanism through the pure function; returns diagnoses made."""
    made = 0
    for spec in specs:
        facts = facts_from_spec(spec)
        for field in facts.fields:
            diagnose(facts, field)
            made += 1
    return made


def service_run(db: Database, specs: list[MechanismFile]) -> int:
    """Every field of every mechanism through the service, in one read transaction."""
    made = 0
    with db.scope(write=False) as session:
        for spec in specs:
            for field in spec.fields:
                diagnose_jurisdiction(session, ANONYMOUS, spec.jurisdiction.code, field.key)
                made += 1
    return made


def compare_run(db: Database, specs: list[MechanismFile]) -> int:
    """The comparison table of all codes for every field any of them names."""
    codes = [s.jurisdiction.code for s in specs]
    fields = sorted({f.key for s in specs for f in s.fields})
    with db.scope(write=False) as session:
        for field in fields:
            compare_jurisdictions(session, ANONYMOUS, codes, field)
    return len(fields)


def loaded_database(url: str, specs: list[MechanismFile]) -> Database:
    upgrade(url)
    db = Database(make_engine(url))
    with db.scope(write=True) as session:
        for spec in specs:
            load_mechanism(session, SYSTEM, spec)
    return db


def bench_database(label: str, url: str, specs: list[MechanismFile], times: int) -> list[float]:
    db = loaded_database(url, specs)
    try:
        made = service_run(db, specs)  # warm-up: statement caches, connection pool
        service = repeat(lambda: service_run(db, specs), times)
        print(f"service ({label}): {made} diagnoses: {summary(service)}")
        n_fields = compare_run(db, specs)
        compare = repeat(lambda: compare_run(db, specs), times)
        print(f"compare ({label}): {n_fields} fields x {len(specs)} codes: {summary(compare)}")
        return service
    finally:
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--target-seconds", type=float, default=1.0)
    args = parser.parse_args()

    files, reference = mechanism_files()
    if not reference:
        print(f"NOTE: no reference mechanisms in {REFERENCE_DIR}; using {MINI_FIXTURE} instead")
    specs, seconds = timed(lambda: parse_all(files))
    for spec, path in zip(specs, files, strict=True):
        print(
            f"{path.name}: {spec.jurisdiction.code}, {len(spec.bodies)} bodies, "
            f"{len(spec.fields)} fields, {len(spec.procedures)} procedures"
        )
    print(f"parse all files: {seconds * 1000:.1f} ms (not part of the target)")

    made = pure_run(specs)
    pure = repeat(lambda: pure_run(specs), args.repeat)
    print(f"pure analytics: {made} diagnoses: {summary(pure)}")

    with tempfile.TemporaryDirectory(prefix="stcoord-bench-") as tmp:
        service = bench_database("SQLite", sqlite_url(Path(tmp) / "diag.db"), specs, args.repeat)
    if not args.no_postgres and postgres_available(args.postgres_url):
        with postgres_database(args.postgres_url) as url:
            pg = bench_database("PostgreSQL", url, specs, args.repeat)
    else:
        pg = []
        print("PostgreSQL: skipped")

    target = args.target_seconds
    verdict(
        f"pure diagnosis of all fields < {target:g} s (median {statistics.median(pure):.3f} s)",
        statistics.median(pure) < target,
    )
    verdict(
        f"service diagnosis of all fields on SQLite < {target:g} s "
        f"(median {statistics.median(service):.3f} s)",
        statistics.median(service) < target,
    )
    if pg:
        verdict(
            f"service diagnosis of all fields on PostgreSQL < {target:g} s "
            f"(median {statistics.median(pg):.3f} s)",
            statistics.median(pg) < target,
        )


if __name__ == "__main__":
    main()
