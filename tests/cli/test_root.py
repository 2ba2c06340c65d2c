"""``stcoord db``, ``seed``, ``user`` and ``token`` on a fresh database of each backend."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from stcoord.audit.models import AuditRecord
from stcoord.cli.main import app
from stcoord.config import get_settings
from stcoord.db.session import database_for
from tests.conftest import BACKENDS, PG_ADMIN_URL


@pytest.fixture(params=BACKENDS)
def empty_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """STCOORD_DATABASE_URL pointing at an empty database (no schema)."""
    name = f"stcoord_cli_{uuid.uuid4().hex[:10]}"
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv("STCOORD_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()
        database_for(url).engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_a_database_without_schema_gets_a_clear_message(empty_db: str) -> None:
    assert "run `stcoord db upgrade` first" in run("mechanism", "list", code=1)


def test_upgrade_seed_twice_changes_nothing(empty_db: str) -> None:
    assert "database at revision" in run("db", "upgrade")
    first = json.loads(run("seed", "--demo-users", "--json"))
    assert {m["code"]: m["created"] for m in first["mechanisms"]} == {
        "CN": True,
        "JP": True,
        "US": True,
    }
    assert "coordinator" in first["users_created"]
    with database_for(empty_db).scope(write=False) as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditRecord))
    second = json.loads(run("seed", "--demo-users", "--json"))
    assert [m["changed"] for m in second["mechanisms"]] == [False, False, False]
    assert second["users_created"] == []
    with database_for(empty_db).scope(write=False) as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == audit_before
    assert "unchanged" in run("seed")


def test_user_create_then_act_as_that_user(empty_db: str) -> None:
    run("db", "upgrade")
    run("seed")
    assert "created admin root" in run("user", "create", "root", "--password", "long-enough-pw")
    assert "already exists" in run("user", "create", "root", "--password", "long-enough-pw", code=1)
    assert "at least 8" in run("user", "create", "x", "--password", "short", code=1)
    assert "created liaison li" in run(
        "user",
        "create",
        "li",
        "--role",
        "liaison",
        "--password",
        "long-enough-pw",
        "--body",
        "JP:mext",
    )
    assert "no body" in run(
        "user",
        "create",
        "l2",
        "--role",
        "liaison",
        "--password",
        "long-enough-pw",
        "--body",
        "JP:nope",
        code=1,
    )
    users = json.loads(run("user", "list", "--json"))
    assert [u["username"] for u in users] == ["li", "root"]
    token = run("token", "create", "--name", "ci", env={"STCOORD_CLI_USER": "li"}).strip()
    assert token.startswith("stc_")
    denied = run(
        "mechanism", "load", "tests/fixtures/mini.yaml", code=1, env={"STCOORD_CLI_USER": "li"}
    )
    assert "may not mechanism.write" in denied
