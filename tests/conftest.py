"""Test databases: every test that takes ``db`` runs on SQLite and on PostgreSQL.

Each backend gets a template database per test process, migrated to head and seeded once with
what ``stcoord seed`` loads (reference mechanisms, plans, classifications; no demo accounts);
each test then gets its own copy (a file copy for SQLite, ``CREATE DATABASE ... TEMPLATE`` for
PostgreSQL), so tests are isolated and see real commits.
Set ``STCOORD_TEST_BACKENDS=sqlite`` to run SQLite only (the default runs both; a PostgreSQL
server that cannot be reached fails the run rather than skipping it).
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from stcoord.config import Settings
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database

PG_ADMIN_URL = os.environ.get(
    "STCOORD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = [b for b in os.environ.get("STCOORD_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
FIXTURES = Path(__file__).parent / "fixtures"
_counter = itertools.count()


def _tag() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{worker}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _seed(url: str) -> None:
    from stcoord.seed import seed

    upgrade(url)
    database = Database(make_engine(url))
    with database.scope() as session:
        seed(session)
    database.engine.dispose()


class SqliteTemplates:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.db"
        _seed(f"sqlite:///{self.template}")

    def new(self) -> tuple[str, object]:
        path = self.root / f"test_{next(_counter)}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}", path

    def drop(self, handle: object) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{handle}{suffix}").unlink(missing_ok=True)


class PostgresTemplates:
    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.prefix = f"stcoord_t_{_tag()}"
        self.template = f"{self.prefix}_tpl"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        _seed(self._url(self.template))

    def _url(self, name: str) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def new(self) -> tuple[str, object]:
        name = f"{self.prefix}_{next(_counter)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return self._url(name), name

    def drop(self, handle: object) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{handle}" WITH (FORCE)'))

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgresql_templates() -> Iterator[PostgresTemplates]:
    templates = PostgresTemplates()
    yield templates
    templates.close()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh database with the schema at head and the reference mechanisms loaded."""
    name = request.param
    templates = request.getfixturevalue(f"{name}_templates")
    url, handle = templates.new()
    database = Database(make_engine(url))
    database.backend = name  # type: ignore[attr-defined]
    try:
        yield database
    finally:
        database.engine.dispose()
        templates.drop(handle)


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(
        database_url=db.engine.url.render_as_string(hide_password=False), secret_key="test-secret"
    )


@pytest.fixture
def app(settings: Settings, db: Database):  # type: ignore[no-untyped-def]
    from stcoord.web.app import create_app

    return create_app(settings, db)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@contextmanager
def point_cli_at(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """Make ``stcoord`` commands in this test use ``db`` (through STCOORD_DATABASE_URL)."""
    from stcoord.config import get_settings
    from stcoord.db.session import database_for

    url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("STCOORD_DATABASE_URL", url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()
    database_for(url).engine.dispose()
