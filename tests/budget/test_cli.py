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


def test_priorities_and_allocate_from_the_cli(cli: Database) -> None:
    out = json.loads(
        run(
            "budget",
            "priorities",
            "p1",
            "-c",
            "nitrd-pca-fy2020",
            "--year",
            "2024",
            "--ahp",
            "AI>LSN=3,AI>HCIA=5,LSN>HCIA=2",
            "--json",
        )
    )
    assert out["weights"]["AI"] > 0.5 and out["consistency_ratio"] < 0.1
    assert "give either" in run(
        "budget", "priorities", "p2", "-c", "nitrd-pca-fy2020", "--year", "2024", code=1
    )
    result = json.loads(
        run(
            "budget",
            "allocate",
            "s1",
            "-p",
            "p1",
            "--base-year",
            "2023",
            "--envelope",
            "1100",
            "--json",
        )
    )["result"]
    assert result["status"] == "optimal" and result["envelope_shadow_price"] >= 0
    text = run("budget", "allocate", "s2", "-p", "p1", "--base-year", "2023", "--envelope", "500")
    assert "infeasible" in text and "conflict:" in text


def test_scenarios_over_http(client, cli: Database) -> None:  # type: ignore[no-untyped-def]
    from stcoord.auth.permissions import Role
    from tests.helpers import token_for

    auth = {"authorization": f"Bearer {token_for(cli, 'c', Role.coordinator)}"}
    created = client.post(
        "/api/v1/budget/priorities",
        headers=auth,
        json={
            "key": "p1",
            "title": "P",
            "classification": "nitrd-pca-fy2020",
            "fiscal_year": 2024,
            "method": "direct",
            "weights": {"AI": 2, "HCIA": 1},
        },
    )
    assert created.status_code == 201, created.text
    for key, envelope in (("a", 1100), ("b", 1000)):
        r = client.post(
            "/api/v1/budget/scenarios",
            headers=auth,
            json={
                "key": key,
                "title": key,
                "priorities": "p1",
                "base_year": 2023,
                "envelope": envelope,
            },
        )
        assert r.status_code == 201, r.text
    table = client.get("/api/v1/budget/scenarios/compare?keys=a,b", headers=auth).json()
    assert [s["key"] for s in table["scenarios"]] == ["a", "b"]
    bad = client.post(
        "/api/v1/budget/priorities",
        headers=auth,
        json={
            "key": "p2",
            "title": "P",
            "classification": "nitrd-pca-fy2020",
            "fiscal_year": 2024,
            "method": "direct",
            "weights": {"ZZ": 1},
        },
    )
    assert bad.status_code == 422


def test_supplement_pdf_from_the_cli(cli: Database, tmp_path: Path) -> None:
    out = tmp_path / "supplement.pdf"
    text = run(
        "budget", "supplement", "-o", str(out), "-c", "nitrd-pca-fy2020", "--years", "2022,2023"
    )
    assert "wrote" in text and out.read_bytes()[:4] == b"%PDF"
