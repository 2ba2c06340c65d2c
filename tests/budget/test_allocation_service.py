"""Priorities and allocation scenarios on both databases."""

import pytest

from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.budget import priorities, scenarios
from stcoord.budget.scenarios import ScenarioParameters
from stcoord.db.session import Database
from stcoord.errors import Conflict, ValidationFailed
from tests.budget.conftest import SCHEME


def set_direct(db: Database) -> None:
    with db.scope() as session:
        priorities.set_priorities(
            session,
            SYSTEM,
            key="p1",
            title="FY2024 priorities",
            classification=SCHEME,
            fiscal_year=2024,
            method="direct",
            weights={"AI": 3, "LSN": 1, "HCIA": 1},
            memo="AI first.",
        )


def run(db: Database, key: str, **params):  # type: ignore[no-untyped-def]
    with db.scope() as session:
        return scenarios.run_scenario(
            session,
            SYSTEM,
            key=key,
            title=key,
            priorities="p1",
            parameters=ScenarioParameters(base_year=2023, **params),
        )


def test_ahp_priorities_with_consistency(budget_db: Database) -> None:
    with budget_db.scope() as session:
        row = priorities.set_priorities(
            session,
            SYSTEM,
            key="ahp",
            title="AHP",
            classification=SCHEME,
            fiscal_year=2024,
            method="ahp",
            items=["AI", "LSN", "HCIA"],
            judgements=[["AI", "LSN", 3], ["AI", "HCIA", 5], ["LSN", "HCIA", 2]],
        )
        assert row.weights["AI"] > row.weights["LSN"] > row.weights["HCIA"]
        assert sum(row.weights.values()) == pytest.approx(1)
        assert row.consistency_ratio is not None and row.consistency_ratio < 0.1
        assert priorities.consistency_warning(row) is None
        bad = priorities.set_priorities(
            session,
            SYSTEM,
            key="ahp2",
            title="x",
            classification=SCHEME,
            fiscal_year=2024,
            method="ahp",
            items=["AI", "LSN", "HCIA"],
            judgements=[["AI", "LSN", 9], ["LSN", "HCIA", 9], ["AI", "HCIA", "1/9"]],
        )
        assert "above 0.1" in (priorities.consistency_warning(bad) or "")
    with pytest.raises(ValidationFailed) as info, budget_db.scope() as session:
        priorities.set_priorities(
            session,
            SYSTEM,
            key="ahp3",
            title="x",
            classification=SCHEME,
            fiscal_year=2024,
            method="ahp",
            items=["AI", "LSN"],
            judgements=[["AI", "ZZ", 3]],
        )
    assert len(info.value.details) >= 2  # the unknown item and the missing pair


def test_scenario_respects_bands_and_explains_itself(budget_db: Database) -> None:
    set_direct(budget_db)
    row = run(budget_db, "s1", envelope=1100.0)
    result = row.result
    assert result["status"] == "optimal"
    for program, amount in result["allocation"].items():
        last = {"NSF/NSF-prog": 450.0, "DOE/DOE-prog": 600.0, "NIST/NIST-prog": 10.0}[program]
        assert last * 0.9 - 1e-6 <= amount <= last * 1.1 + 1e-6
    assert result["total"] <= 1100.0 + 1e-6
    assert result["binding"] and all("shadow_price" in b for b in result["binding"])
    assert result["agency_totals"]["NSF"] == pytest.approx(495.0)  # AI is worth most: ceiling


def test_infeasible_scenario_names_the_conflict(budget_db: Database) -> None:
    set_direct(budget_db)
    row = run(budget_db, "tight", envelope=500.0)
    assert row.result["status"] == "infeasible"
    conflict = row.result["conflict"]
    assert "envelope" in conflict["constraints"]
    assert any(c.startswith("program_floor:") for c in conflict["constraints"])
    assert conflict["explanation"]


def test_compare_and_permissions(budget_db: Database) -> None:
    set_direct(budget_db)
    run(budget_db, "a", envelope=1100.0)
    run(budget_db, "b", envelope=1100.0, min_shares={"HCIA": 0.6})
    with budget_db.scope(write=False) as session:
        table = scenarios.compare(session, SYSTEM, ["a", "b"])
    assert [s["key"] for s in table["scenarios"]] == ["a", "b"]
    hcia = next(f for f in table["fields"] if f["field"] == "HCIA")
    assert hcia["b"] >= 660.0 - 1e-6 > hcia["a"]  # DOE (all HCIA) pushed to its ceiling
    with pytest.raises(Conflict):
        run(budget_db, "a", envelope=1.0)
    with pytest.raises(PermissionDenied), budget_db.scope() as session:
        scenarios.run_scenario(
            session,
            Actor(username="v", role=Role.viewer),
            key="c",
            title="c",
            priorities="p1",
            parameters=ScenarioParameters(base_year=2023, envelope=1.0),
        )
    with pytest.raises(ValidationFailed), budget_db.scope() as session:
        scenarios.run_scenario(
            session,
            SYSTEM,
            key="e",
            title="e",
            priorities="p1",
            parameters=ScenarioParameters(base_year=1999, envelope=9.0),
        )
