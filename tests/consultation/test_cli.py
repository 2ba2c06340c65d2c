"""``stcoord consult ...`` on a database: import a real Polis export, list, show, dashboard,
dispositions, answer, export back to Polis's formats, reports and Delphi status."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.auth.permissions import SYSTEM
from stcoord.cli.main import app
from stcoord.consultation import service
from stcoord.db.session import Database
from tests.conftest import point_cli_at
from tests.consultation.conftest import KEY, PLAN

LONDON = Path(__file__).parents[3] / "shared" / "data" / "polis" / "london.youth.policing"


@pytest.fixture
def cli(cdb: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    with point_cli_at(cdb, monkeypatch) as db:
        yield db


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.skipif(not LONDON.is_dir(), reason="the shared Polis exports are not present")
def test_import_a_polis_export_then_analyse_it_from_the_database(
    cli: Database, tmp_path: Path
) -> None:
    opened = json.loads(
        run(
            "consult",
            "open",
            "london",
            "-p",
            PLAN,
            "--kind",
            "conversation",
            "--title",
            "P",
            "--json",
        )
    )
    assert opened["kind"] == "conversation" and opened["status"] == "open"
    refused = json.loads(
        run(
            "consult",
            "open",
            "x",
            "-p",
            "no-plan",
            "--kind",
            "rfi",
            "--title",
            "T",
            "--json",
            code=1,
        )
    )
    assert refused["error"]["details"][0]["path"] == "plan"
    out = json.loads(run("consult", "import", str(LONDON), "--consultation", "london", "--json"))
    # 39 comments (3 moderated out), 27 people, 640 votes of which 638 distinct
    # (participant, comment) pairs: a changed vote counts once, the last one
    assert out == {
        "consultation": "london",
        "participants": 27,
        "statements": 39,
        "hidden": 3,
        "votes": 638,
    }
    again = json.loads(run("consult", "import", str(LONDON), "-c", "london", "--json", code=1))
    assert again["error"]["code"] == "conflict"
    listed = json.loads(run("consult", "list", "--plan", PLAN, "--json"))
    assert [(r["key"], r["participants"], r["statements"], r["votes"]) for r in listed] == [
        ("london", 27, 39, 638),
        (KEY, 0, 0, 0),
    ]
    shown = json.loads(run("consult", "show", "london", "--json"))
    hidden = [s["number"] for s in shown["statements"] if s["hidden"]]
    comments = list(
        csv.DictReader((LONDON / "comments.csv").read_text(encoding="utf-8").splitlines())
    )
    assert hidden == sorted(int(c["comment-id"]) for c in comments if c["moderated"] == "-1")
    dash = json.loads(run("consult", "dashboard", "london", "--json"))
    analysis = dash["analysis"]
    assert analysis["voters"] == 26 and analysis["excluded_statements"] == hidden
    assert 2 <= len(analysis["groups"]) <= 5
    assert sum(g["size"] for g in analysis["groups"]) <= 26
    assert not {r["statement"] for g in analysis["groups"] for r in g["representative"]} & set(
        hidden
    )
    assert dash["heard"][4] == {  # individuals: the default sector of imported participants
        "sector": "individual",
        "participants": 27,
        "organisations": [],
        "comments": 0,
        "statements": 39,
        "voters": 26,  # one participant only wrote comments (as Polis's summary says: 26 voters)
        "votes": 638,
    }
    # and out again in Polis's format, with our groups as group-id
    files = json.loads(run("consult", "export", "london", str(tmp_path / "out"), "--json"))
    assert set(files) >= {"comments", "votes", "matrix"}
    matrix = list(csv.DictReader(Path(files["matrix"]).read_text(encoding="utf-8").splitlines()))
    assert len(matrix) == 26
    assert {r["group-id"] for r in matrix} - {""} == {str(g["id"]) for g in analysis["groups"]}
    text = run("consult", "dashboard", "london")
    assert "group A" in text


def test_dispositions_answer_and_reports(cli: Database, tmp_path: Path) -> None:
    with cli.scope() as session:
        service.register(session, SYSTEM, key=KEY, sector="academia", handle="a1", organisation="U")
        service.add_comment(session, SYSTEM, key=KEY, text="Open the data", participant="a1")
    blocked = run("plan", "advance", PLAN, "--on", "2024-02-15", code=1)
    assert "1 comment(s) have no official disposition yet" in blocked
    rows = json.loads(run("consult", "dispositions", KEY, "--unanswered", "--json"))
    assert [(r["id"], r["sector"], r["outcome"]) for r in rows] == [(1, "academia", None)]
    bad = json.loads(
        run("consult", "answer", KEY, "1", "--outcome", "maybe", "--reason", "x", "--json", code=1)
    )
    assert bad["error"]["details"][0]["path"] == "outcome"
    run("consult", "answer", KEY, "1", "--outcome", "adopted", "--reason", "Section 2 opens it")
    assert json.loads(run("consult", "dispositions", KEY, "--unanswered", "--json")) == []
    pdf = tmp_path / "result.pdf"
    run("consult", "report", KEY, "--kind", "result", "--out", str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    html = tmp_path / "summary.html"
    run("consult", "report", KEY, "--out", str(html), "--lang", "ja")
    assert '<html lang="ja">' in html.read_text(encoding="utf-8")
    out = run("consult", "delphi", KEY, code=1)
    assert "not a Delphi survey" in out
