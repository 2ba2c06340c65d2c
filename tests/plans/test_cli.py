"""``stcoord plan ...`` end to end on both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.auth.permissions import SYSTEM
from stcoord.cli.main import app
from stcoord.db.session import Database
from stcoord.plans import service
from tests.conftest import point_cli_at


@pytest.fixture
def cli(plan_db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    with point_cli_at(plan_db, monkeypatch) as db:
        yield db


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_status_json_names_stage_unmet_conditions_and_goals(cli: Database) -> None:
    with cli.scope() as session:
        service.add_goal(session, SYSTEM, plan_key="xa-ai", code="G1", kind="goal", title="AI")
    out = json.loads(run("plan", "status", "xa-ai", "--json", "--today", "2024-02-01"))
    assert out["current_stage"] == "consult"
    assert out["unmet"] == [
        {"kind": "channels_heard", "message": "no input yet from industry, academia"}
    ]
    assert [(g["code"], g["status"]) for g in out["goals"]] == [("G1", "no_data")]
    assert "blocked: no input yet from industry, academia" in run("plan", "status", "xa-ai")


def test_list_show_advance_and_timeline(cli: Database) -> None:
    listed = json.loads(run("plan", "list", "--json", "-j", "XA"))
    assert [p["key"] for p in listed] == ["xa-ai"]
    assert "Atlantis AI plan" in run("plan", "show", "xa-ai")
    refused = run("plan", "advance", "xa-ai", "--on", "2024-02-01", code=1)
    assert "cannot close: no input yet from industry, academia" in refused
    with cli.scope() as session:
        for channel in ("industry", "academia"):
            service.record_input(session, SYSTEM, plan_key="xa-ai", channel=channel, summary="x")
    assert "now at stage draft" in run("plan", "advance", "xa-ai", "--on", "2024-02-01")
    events = json.loads(run("plan", "timeline", "xa-ai", "--json"))
    assert [e["kind"] for e in events] == ["opened", "input", "input", "advanced"]
    assert "not a date" in run("plan", "advance", "xa-ai", "--on", "soon", code=1)
    assert "no plan 'nope'" in run("plan", "show", "nope", code=1)


def test_sheet_export_import_and_diff(cli: Database, tmp_path: Path) -> None:
    with cli.scope() as session:
        service.add_task(
            session, SYSTEM, plan_key="xa-ai", code="T1", title="Compute", lead_body="research"
        )
        service.add_milestone(
            session,
            SYSTEM,
            plan_key="xa-ai",
            task_code="T1",
            code="M1",
            title="Tender",
            due=dt.date(2024, 5, 1),
        )
        service.add_draft(
            session,
            SYSTEM,
            plan_key="xa-ai",
            title="v1",
            sections=[{"key": "a", "heading": "Aims", "text": "Build."}],
        )
        service.add_draft(
            session,
            SYSTEM,
            plan_key="xa-ai",
            title="v2",
            sections=[{"key": "a", "heading": "Aims", "text": "Build more."}],
        )
    out = tmp_path / "milestones.xlsx"
    assert "wrote 1 rows" in run("plan", "export", "xa-ai", "milestones", "-o", str(out))
    sheet = tmp_path / "m.csv"
    sheet.write_text(
        "task,code,title,due,completed_on,weight\n"
        "T1,M1,Tender,2024-05-01,2024-04-28,1\nT1,M2,Build,2024-09-01,,2\n"
    )
    assert "1 created, 1 updated" in run("plan", "import", "xa-ai", "milestones", str(sheet))
    bad = tmp_path / "bad.csv"
    bad.write_text("task,code,title,due,completed_on,weight\nT9,M1,x,someday,,\n")
    text = run("plan", "import", "xa-ai", "milestones", str(bad), code=1)
    assert "row 2, task: unknown task 'T9'" in text and "row 2, due: not a date" in text
    diff = run("plan", "diff", "xa-ai", "1", "2")
    assert "== Aims [a]: changed" in diff and "+Build more." in diff
    assert "0% fully aligned" in run("plan", "alignment", "xa-ai")


def test_report_pdf_from_the_cli(cli: Database, tmp_path: Path) -> None:
    out = tmp_path / "dossier.pdf"
    assert "wrote" in run("plan", "report", "xa-ai", "dossier", "-o", str(out), "--lang", "ja")
    assert out.read_bytes()[:4] == b"%PDF"
    assert "dossier or progress" in run("plan", "report", "xa-ai", "memo", "-o", str(out), code=1)
