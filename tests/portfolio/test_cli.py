"""``stcoord portfolio ...``: a file screened without a database prints the same pairs as the
stored path; import, pairs, verdict, checks and landscape with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.cli.main import app
from stcoord.db.session import Database
from tests.conftest import point_cli_at
from tests.portfolio.conftest import group_pairs


def _run(*args: str) -> object:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_file_screen_needs_no_database(
    nsf_slice: Path, nsf_groups: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STCOORD_DATABASE_URL", "sqlite:////nonexistent/dir/none.db")
    pairs = _run("portfolio", "screen", str(nsf_slice), "--threshold", "0.8", "--json")
    assert isinstance(pairs, list) and set(pairs[0]) == {"left", "right", "score"}
    found = {(p["left"], p["right"]) for p in pairs}
    wanted = group_pairs(nsf_groups)
    assert len(found & wanted) / len(wanted) > 0.95


def test_stored_screen_prints_the_same_pairs_as_the_file(
    db: Database, nsf_slice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = _run("portfolio", "screen", str(nsf_slice), "--threshold", "0.8", "--json")
    with point_cli_at(db, monkeypatch):
        imported = _run("portfolio", "import", str(nsf_slice), "--json")
        assert imported["mapping"] == "nsf-awards"  # type: ignore[index]
        run = _run("portfolio", "screen", "--new", "--threshold", "0.8", "--json")
        assert run["status"] == "done"  # type: ignore[index]
        stored = _run("portfolio", "screen", "--run", str(run["id"]), "--json")  # type: ignore[index]
        assert stored == from_file
        listed = _run("portfolio", "pairs", "--run", str(run["id"]), "--limit", "3", "--json")
        pair = listed["items"][0]  # type: ignore[index]
        verdict = _run("portfolio", "verdict", str(pair["pair"]), "overlap", "-c", "x", "--json")
        assert verdict["verdict"] == "overlap"  # type: ignore[index]
        precision = _run("portfolio", "precision", "--json")
        assert precision["total"]["confirmed"] == 1  # type: ignore[index]
        checks = _run(
            "portfolio", "checks", "--run", str(run["id"]), "--threshold", "100", "--json"
        )
        assert checks["concurrent"]["items"]  # type: ignore[index]
        result = CliRunner().invoke(app, ["portfolio", "verdict", "999999", "overlap", "--json"])
        assert result.exit_code == 1 and json.loads(result.stdout)["error"]["code"] == "not_found"
