"""``stcoord advisory ...`` end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.cli.main import app
from stcoord.db.session import Database
from tests.advisory.conftest import REPORT
from tests.conftest import point_cli_at


@pytest.fixture
def cli(adv_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    with point_cli_at(adv_db, monkeypatch) as db:
        yield db


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["advisory", *args])
    assert result.exit_code == code, result.output
    return result.output


def test_list_show_respond_status_and_tracker(cli: Database, tmp_path: Path) -> None:
    listed = json.loads(run("list", "--status", "open", "--json"))
    assert [r["number"] for r in listed["items"]] == ["2", "3", "4"]
    assert "US:pcast" in run("list", "--position", "none")
    shown = json.loads(run("show", REPORT, "1", "--json"))
    assert shown["position"] == "accept" and shown["tasks"][0]["task"] == "US-T01"
    assert "Fund AI research" in run("show", REPORT)
    answered = json.loads(
        run(
            "respond",
            REPORT,
            "4",
            "--position",
            "accept",
            "--text",
            "Yes",
            "--date",
            "2024-07-01",
            "--version",
            "1",
            "--json",
        )
    )
    assert answered["position"] == "accept" and answered["version"] == 2
    stale = json.loads(
        run(
            "respond",
            REPORT,
            "4",
            "--position",
            "reject",
            "--text",
            "No",
            "--version",
            "1",
            "--json",
            code=1,
        )
    )
    assert stale["error"]["code"] == "conflict"
    moved = json.loads(
        run(
            "status",
            REPORT,
            "4",
            "--status",
            "fully_addressed",
            "--date",
            "2025-02-01",
            "--evidence",
            "Audit law passed",
            "--amount",
            "200",
            "--currency",
            "USD",
            "--json",
        )
    )
    assert moved["status"] == "fully_addressed" and moved["benefit_amount"] == 200.0
    refused = run("status", REPORT, "3", "--status", "closed", code=1)
    assert "status: use one of open, partly_addressed, fully_addressed" in refused
    adoption = json.loads(run("adoption", "--json"))
    assert adoption[0]["adoption_rate"] == 0.75 and adoption[0]["fully_addressed"] == 2
    tracker = json.loads(run("tracker", "--json"))
    assert tracker["bodies"][0]["benefits"] == {"USD": 1500200.5}
    pdf = tmp_path / "t.pdf"
    assert "wrote" in run("tracker", "--pdf", str(pdf), "--lang", "ja")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_file_import_and_link(cli: Database, tmp_path: Path) -> None:
    run(
        "file",
        "naiac-1",
        "-j",
        "US",
        "--body",
        "naiac",
        "--title",
        "Year 1",
        "--date",
        "2023-05-01",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("number,text\n1,\n", encoding="utf-8")
    out = json.loads(run("import", "naiac-1", str(bad), "--json", code=1))
    assert out["error"]["details"][0]["row"] == 2
    good = tmp_path / "recs.csv"
    good.write_text("number,text,addressed_to\n1,Fund NAIRR,nsf\n2,Hire,\n", encoding="utf-8")
    assert "2 created, 0 updated, 0 unchanged" in run("import", "naiac-1", str(good))
    assert "1 created" not in run("import", "naiac-1", str(good))
    run("link", "naiac-1", "1", "--plan", "us-ai-rd-strategic-plan", "--task", "US-T02")
    shown = json.loads(run("show", "naiac-1", "1", "--json"))
    assert [t["task"] for t in shown["tasks"]] == ["US-T02"]
    assert "is not an advisory body" in run(
        "file", "x", "-j", "US", "--body", "nsf", "--title", "t", code=1
    )
