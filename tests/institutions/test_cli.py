"""``stcoord mechanism ...`` end to end on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.cli.main import app
from stcoord.db.session import Database
from tests.conftest import FIXTURES, point_cli_at


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    with point_cli_at(db, monkeypatch):
        yield CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_list_json_has_codes_and_counts(cli: CliRunner) -> None:
    rows = json.loads(run(cli, "mechanism", "list", "--json"))
    by_code = {r["code"]: r for r in rows}
    assert {"US", "JP", "CN"} <= set(by_code)
    assert by_code["US"]["bodies"] >= 30 and by_code["JP"]["bodies"] >= 20
    assert "JP" in run(cli, "mechanism", "list")


def test_diagnose_json_shape_and_reference_verdicts(cli: CliRunner) -> None:
    for code in ("US", "JP"):
        out = json.loads(run(cli, "mechanism", "diagnose", code, "--field", "ai", "--json"))
        assert out["code"] == code and out["field"] == "ai"
        assert [f["finding"] for f in out["findings"]] == [1, 2, 3, 4]
        assert [f["verdict"] for f in out["findings"]] == ["met"] * 4, out["findings"]
        for finding in out["findings"]:
            assert finding["evidence"] and finding["gaps"] == []
    china = json.loads(run(cli, "mechanism", "diagnose", "CN", "--field", "ai", "--json"))
    assert [f["verdict"] for f in china["findings"]] != ["met"] * 4
    assert any(f["gaps"] for f in china["findings"])


def test_compare_prints_a_table_and_json(cli: CliRunner) -> None:
    text = run(cli, "mechanism", "compare", "US", "JP", "CN", "--field", "ai")
    assert text.splitlines()[0].split()[-3:] == ["US", "JP", "CN"]
    out = json.loads(run(cli, "mechanism", "compare", "US", "JP", "--field", "ai", "--json"))
    assert out["codes"] == ["US", "JP"] and len(out["rows"]) == 4
    assert "at least two" in run(cli, "mechanism", "compare", "US", "--field", "ai", code=1)


def test_load_export_round_trip_and_idempotence(cli: CliRunner, tmp_path: Path) -> None:
    kr = Path(__file__).parents[2] / "docs" / "examples" / "kr.yaml"
    assert "KR: created" in run(cli, "mechanism", "load", str(kr))
    assert "nothing changed" in run(cli, "mechanism", "load", str(kr))
    out = tmp_path / "kr-export.yaml"
    run(cli, "mechanism", "export", "KR", "-o", str(out))
    assert "nothing changed" in run(cli, "mechanism", "load", str(out))
    diagnosis = json.loads(run(cli, "mechanism", "diagnose", "KR", "--field", "ai", "--json"))
    assert len(diagnosis["findings"]) == 4
    from_file = json.loads(
        run(cli, "mechanism", "diagnose", "--file", str(kr), "--field", "ai", "--json")
    )
    assert from_file == diagnosis


def test_bad_file_lists_every_problem_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("parent: research", "parent: nowhere").replace("members <= 6", "members <= 2"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["mechanism", "load", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:67: bodies[5].parent: unknown body 'nowhere'" in result.output
    assert "bodies[1].composition[0].rule: the seats break this composition rule" in result.output
    problems = json.loads(run(cli, "mechanism", "load", str(bad), "--json", code=2))
    assert len(problems["error"]["problems"]) == 2
    assert "XA" not in run(cli, "mechanism", "list")


def test_show_and_errors(cli: CliRunner) -> None:
    assert "csti" in run(cli, "mechanism", "show", "JP")
    body = json.loads(run(cli, "mechanism", "show", "JP", "--body", "csti", "--json"))
    assert body["key"] == "csti" and body["seats"]
    assert "no mechanism for jurisdiction 'ZZ'" in run(cli, "mechanism", "show", "ZZ", code=1)
    assert "cannot read" in run(cli, "mechanism", "load", "/nonexistent.yaml", code=1)
