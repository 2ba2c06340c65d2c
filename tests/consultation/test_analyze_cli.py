"""``stcoord consult analyze``: a Polis export folder in, groups and consensus out, no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stcoord.cli.main import app

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SEATTLE = DATA / "polis" / "15-per-hour-seattle"
MATH_CASE = DATA / "polis-math" / "50ptpt-3gp-strict-no-meta"

pytestmark = pytest.mark.skipif(not SEATTLE.is_dir(), reason="shared Polis data not present")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["consult", "analyze", *args])
    return result.exit_code, result.output


def test_analyze_open_data_folder_as_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # no database anywhere: point the settings at a path that does not exist
    monkeypatch.setenv("STCOORD_DATABASE_URL", f"sqlite:///{tmp_path}/absent/none.db")
    code, out = run(str(SEATTLE), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert len(data["groups"]) == 2
    members = [m for g in data["groups"] for m in g["members"]]
    assert len(members) == len(set(members)) == data["in_conversation"]
    for g in data["groups"]:
        assert g["representative"]
        for r in g["representative"]:
            assert r["direction"] in ("agree", "disagree")
            assert r["text"]  # the comment's text comes along
    # with Polis's groups no statement has a majority in both (one run from scratch: one)
    assert all(c["direction"] in ("agree", "disagree") for c in data["consensus"])
    assert data["divisive"]
    # comment 13 was moderated out: excluded, and never reported
    assert "13" in data["excluded_statements"]
    reported = [c["statement"] for c in data["consensus"] + data["divisive"]]
    reported += [r["statement"] for g in data["groups"] for r in g["representative"]]
    assert "13" not in reported
    # the votes carry their times: Polis's runs are replayed and its groups come out
    assert data["polis_groups"]["adjusted_rand_index"] > 0.99
    assert not (tmp_path / "absent").exists()


def test_analyze_polis_math_case_and_text_output() -> None:
    code, out = run(str(MATH_CASE))
    assert code == 0, out
    assert "3 groups" in out
    assert "adjusted Rand index 1.000" in out
    assert "consensus" in out


def test_analyze_replays_polis_runs_from_vote_times() -> None:
    """25ptpt (a workshop whose base-cluster ids Polis's runs reshuffled): the votes' times
    let the analysis replay those runs, and the groups come out as Polis's (0.633 without)."""
    code, out = run(str(DATA / "polis-math" / "25ptpt-3gp-no-strict-with-meta"))
    assert code == 0, out
    assert "3 groups" in out
    assert "adjusted Rand index 1.000" in out


def test_analyze_reports_a_missing_folder() -> None:
    code, out = run("/nonexistent/polis", "--json")
    assert code == 1
    assert "not a folder" in out


def test_continue_from_polis_groups() -> None:
    code, out = run(str(SEATTLE), "--json", "--continue-polis")
    assert code == 0, out
    assert json.loads(out)["polis_groups"]["adjusted_rand_index"] > 0.9


def test_matrix_only_export(tmp_path: Path) -> None:
    """Without votes.csv the votes come from participants-votes.csv."""
    for name in ("comments.csv", "participants-votes.csv", "summary.csv"):
        (tmp_path / name).write_bytes((SEATTLE / name).read_bytes())
    code, out = run(str(tmp_path), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert len(data["groups"]) == 2 and data["polis_groups"]["adjusted_rand_index"] > 0.8
