"""``stcoord budget ...`` on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.cli.main import app
from stcoord.db.session import Database
from tests.conftest import point_cli_at


@pytest.fixture
def cli(budget_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    with point_cli_at(budget_db, monkeypatch) as db:
        yield db


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_crosscut_json_rows_have_grouping_keys_and_amount(cli: Database) -> None:
    rows = json.loads(
        run("budget", "crosscut", "--by", "agency,year", "--phase", "enacted", "--json")
    )
    assert {"agency", "year", "amount"} <= set(rows[0])
    nsf = {r["year"]: r["amount"] for r in rows if r["agency"] == "NSF"}
    assert nsf == {2021: 150, 2022: 300, 2023: 450}


def test_crosscut_by_field_table_file_and_errors(cli: Database, tmp_path: Path) -> None:
    text = run("budget", "crosscut", "--by", "field", "-c", "nitrd-pca-fy2020", "--years", "2021")
    assert "AI" in text and "total 360.00" in text
    out = tmp_path / "cut.xlsx"
    assert "wrote" in run("budget", "crosscut", "--by", "agency", "-o", str(out))
    assert out.read_bytes()[:2] == b"PK"
    assert "unknown dimension 'colour'" in run("budget", "crosscut", "--by", "colour", code=1)
    assert "--years takes years" in run("budget", "crosscut", "--years", "soon", code=1)


def test_unity_and_classifications(cli: Database) -> None:
    rows = json.loads(run("budget", "unity", "--year", "2022", "-c", "nitrd-pca-fy2020", "--json"))
    ai = next(r for r in rows if r["field"] == "AI")
    assert ai["steered_share"] == pytest.approx(0.5)
    schemes = json.loads(run("budget", "classifications", "--json"))
    assert {"nitrd-pca-fy2019", "nitrd-pca-fy2020"} <= {s["key"] for s in schemes}
