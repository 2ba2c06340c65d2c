"""Helpers shared by the benchmarks: timing, memory, throwaway databases, verdict lines.

The benchmarks import this module as a sibling (``python benchmarks/NAME.py`` puts
``benchmarks/`` on ``sys.path``); it is not part of the ``stcoord`` package.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / "src" / "stcoord" / "reference" / "mechanisms"
MINI_FIXTURE = ROOT / "tests" / "fixtures" / "mini.yaml"


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Call ``fn`` once; return its result and the wall time in seconds."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def repeat(fn: Callable[[], object], times: int) -> list[float]:
    """Wall times (s) of ``times`` calls of ``fn``."""
    return [timed(fn)[1] for _ in range(times)]


def summary(times: list[float]) -> str:
    """``best / median / worst`` of a list of durations, in ms."""
    return (
        f"best {min(times) * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms, "
        f"worst {max(times) * 1000:.1f} ms over {len(times)} runs"
    )


def verdict(label: str, ok: bool) -> bool:
    print(f"target: {label} -> {'PASS' if ok else 'FAIL'}")
    return ok


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def postgres_available(base_url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(base_url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def postgres_database(base_url: str, prefix: str = "stcoord_bench") -> Iterator[str]:
    """Create ``<prefix>_<pid>`` on the server of ``base_url``; yield its URL; drop it after."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def note(text: str) -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(f"NOTE: {text}", file=sys.stderr, flush=True)
