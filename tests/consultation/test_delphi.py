"""The Delphi engine in the database: rounds, feedback of the previous round, the convergence
rule (IQR, median shift, Kendall's W) and the stop at max rounds."""

from __future__ import annotations

import pytest

from stcoord.auth.permissions import SYSTEM, PermissionDenied
from stcoord.consultation import delphi, service
from stcoord.db.session import Database
from stcoord.errors import ValidationFailed
from tests.consultation.conftest import PLAN, actor

KEY = "xa-delphi"
EXPERTS = ("e1", "e2", "e3", "e4")


def _setup(db: Database, **settings: float) -> None:
    with db.scope() as session:
        service.create_consultation(
            session,
            SYSTEM,
            key=KEY,
            plan_key=PLAN,
            kind="delphi",
            title="Priorities of AI research",
            channels=["academia"],
            settings={"max_iqr": 1.0, "max_median_shift": 0.5, "max_rounds": 3, **settings},
        )
        for i, name in enumerate(EXPERTS):
            service.register(
                session,
                SYSTEM,
                key=KEY,
                sector="academia",
                organisation=f"University {i}",
                handle=name,
            )
        for text in ("Foundation models", "Robotics", "AI safety"):
            service.add_statement(session, SYSTEM, key=KEY, text=text, participant="e1")


def _round(db: Database, ratings: dict[str, tuple[float, float, float]]) -> dict:  # type: ignore[type-arg]
    with db.scope() as session:
        delphi.open_round(session, SYSTEM, key=KEY)
        for expert, values in ratings.items():
            for number, value in enumerate(values, start=1):
                delphi.rate(
                    session, SYSTEM, key=KEY, statement=number, value=value, participant=expert
                )
    with db.scope() as session:
        return delphi.close_round(session, SYSTEM, key=KEY).summary


def test_rounds_feed_back_the_median_and_stop_when_the_panel_converges(cdb: Database) -> None:
    _setup(cdb)
    first = _round(
        cdb,
        {"e1": (9, 3, 7), "e2": (7, 5, 8), "e3": (8, 2, 5), "e4": (4, 4, 9)},
    )
    # statement 1: 4, 7, 8, 9 -> median 7.5, quartiles 6.25 and 8.25 (linear interpolation)
    assert first["items"]["1"] == {
        "n": 4,
        "median": 7.5,
        "q1": 6.25,
        "q3": 8.25,
        "iqr": 2.0,
        "mean": 7.0,
        "converged": False,
    }
    assert first["converged"] is False and first["stop"] is False
    assert first["raters"] == 4
    # ranks e1 (3,1,2) e2 (2,1,3) e3 (3,1,2) e4 (1.5,1.5,3): S = 18.5, one tie of 2:
    # W = 12 * 18.5 / (16 * 24 - 4 * 6) = 0.6167
    assert first["kendalls_w"] == 0.6167
    # the feedback raters see in round 2 is round 1's median and quartiles
    with cdb.scope() as session:
        delphi.open_round(session, SYSTEM, key=KEY)
    with cdb.scope(write=False) as session:
        st = delphi.state(session, SYSTEM, key=KEY)
        assert st.open_round is not None and st.open_round.number == 2
        assert st.feedback[1]["median"] == 7.5 and st.feedback[2]["iqr"] == 1.5
        assert st.finished is None
    second_ratings = {"e1": (8, 3, 8), "e2": (8, 3, 8), "e3": (7, 3, 7), "e4": (8, 4, 8)}
    with cdb.scope() as session:
        for expert, values in second_ratings.items():
            for number, value in enumerate(values, start=1):
                delphi.rate(
                    session, SYSTEM, key=KEY, statement=number, value=value, participant=expert
                )
        second = delphi.close_round(session, SYSTEM, key=KEY).summary
    # medians 8, 3, 8: shifts +0.5, -0.5, +0.5 (within 0.5), IQRs 0.25, 0.25, 0.25
    assert [second["items"][i]["median"] for i in "123"] == [8.0, 3.0, 8.0]
    assert [second["items"][i]["iqr"] for i in "123"] == [0.25, 0.25, 0.25]
    assert second["converged"] is True and second["reasons"] == []
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        delphi.open_round(session, SYSTEM, key=KEY)
    assert "finished (converged)" in info.value.details[0]["message"]


def test_the_survey_stops_after_max_rounds_without_convergence(cdb: Database) -> None:
    _setup(cdb, max_rounds=2, min_w=0.9)
    spread = {"e1": (1, 9, 5), "e2": (9, 1, 5), "e3": (1, 9, 1), "e4": (9, 1, 9)}
    assert _round(cdb, spread)["stop"] is False
    last = _round(cdb, spread)
    assert (last["converged"], last["stop"]) == (False, True)
    assert "stopped after the maximum of 2 rounds" in last["reasons"]
    assert any("Kendall's W" in r for r in last["reasons"])
    with cdb.scope(write=False) as session:
        assert delphi.state(session, SYSTEM, key=KEY).finished == "max_rounds"


def test_ratings_are_checked_and_only_the_office_runs_rounds(cdb: Database) -> None:
    _setup(cdb)
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        delphi.rate(session, SYSTEM, key=KEY, statement=1, value=5, participant="e1")
    assert info.value.details[0]["message"] == "no round is open"
    with pytest.raises(PermissionDenied), cdb.scope() as session:
        delphi.open_round(session, actor(cdb, "aca"), key=KEY)
    with cdb.scope() as session:
        delphi.open_round(session, SYSTEM, key=KEY)
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        delphi.rate(session, SYSTEM, key=KEY, statement=1, value=10, participant="e1")
    assert info.value.details[0]["message"] == "must be between 1 and 9"
    # an expert signed in rates their own ratings only, and rating again replaces the rating
    aca = actor(cdb, "aca")
    with cdb.scope() as session:
        service.register(session, aca, key=KEY, sector="academia", organisation="U")
        delphi.rate(session, aca, key=KEY, statement=2, value=3)
        delphi.rate(session, aca, key=KEY, statement=2, value=4, rationale="on reflection")
    with pytest.raises(PermissionDenied), cdb.scope() as session:
        delphi.rate(session, aca, key=KEY, statement=1, value=5, participant="e1")
    with cdb.scope(write=False) as session:
        assert delphi.state(session, aca, key=KEY).mine == {2: 4.0}
    with pytest.raises(ValidationFailed) as info, cdb.scope() as session:
        service.create_consultation(
            session,
            SYSTEM,
            key="bad",
            plan_key=PLAN,
            kind="delphi",
            title="x",
            settings={"scale_min": 9, "scale_max": 1, "min_w": 2, "speed": 1},
        )
    assert [d["path"] for d in info.value.details] == [
        "settings.scale_max",
        "settings.min_w",
        "settings.speed",
    ]
