"""Screen runs as background jobs in the web process.

A run started from the web page or the API runs in a daemon thread that opens its own
transactions (one per chunk, see :func:`~stcoord.portfolio.screening.execute_run`); the page
polls the run's row for progress. If the process stops, the run stays ``running`` with its
checkpoint, and "resume" (web, API or ``stcoord portfolio screen --resume RUN``) continues from
the last written chunk. One thread per run; a run already running in this process is not
started twice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from stcoord.auth.permissions import Actor
from stcoord.portfolio.screening import Interrupted, execute_run

log = logging.getLogger("stcoord.portfolio.jobs")
_THREADS: dict[int, threading.Thread] = {}
_LOCK = threading.Lock()


def is_running_here(run_id: int) -> bool:
    thread = _THREADS.get(run_id)
    return thread is not None and thread.is_alive()


def start(database: Any, actor: Actor, run_id: int) -> bool:
    """Start (or resume) a run in a background thread; False if it already runs here."""
    with _LOCK:
        if is_running_here(run_id):
            return False

        def work() -> None:
            try:
                execute_run(database, actor, run_id)
            except Interrupted:
                pass
            except Exception:  # recorded on the run as failed; logged for the operator
                log.exception("screen run %s failed", run_id)

        thread = threading.Thread(target=work, name=f"screen-run-{run_id}", daemon=True)
        _THREADS[run_id] = thread
        thread.start()
        return True


def wait(run_id: int, timeout: float | None = None) -> None:
    """Wait for a background run of this process to finish (for tests and shutdown)."""
    thread = _THREADS.get(run_id)
    if thread is not None:
        thread.join(timeout)
