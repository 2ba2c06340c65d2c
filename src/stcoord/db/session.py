"""Session factories and the one place that commits: :func:`session_scope`.

Services never commit; the edge (a request, a CLI command, a job) opens one scope, so a
multi-step operation is all or nothing. Scopes that write take SQLite's write lock up front
(``BEGIN IMMEDIATE``) behind a process-level lock; read scopes do not, so reads run in parallel.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from stcoord.config import get_settings
from stcoord.db.engine import SQLITE_WRITE_LOCK, WRITE_OPTION, is_sqlite, make_engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


class Database:
    """The engine of one database with its read and write session factories."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(str(engine.url))
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(
            bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    @contextmanager
    def scope(self, *, write: bool = True) -> Iterator[Session]:
        """Yield a session in one transaction: commit on success, roll back on any error."""
        lock = SQLITE_WRITE_LOCK if (write and self.sqlite) else nullcontext()
        with lock:
            session = (self._write if write else self._read)()
            try:
                yield session
                if write:
                    session.commit()
                # A read scope just closes: its objects stay usable (detached, not expired).
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()


@lru_cache(maxsize=8)
def database_for(url: str) -> Database:
    return Database(engine_for(url))


def get_database() -> Database:
    return database_for(get_settings().database_url)


@contextmanager
def session_scope(*, write: bool = True) -> Iterator[Session]:
    """A transaction on the configured database (see :meth:`Database.scope`)."""
    with get_database().scope(write=write) as session:
        yield session
