"""The crosscut and the unity check on both databases (set-based SQL, same answers)."""

from decimal import Decimal

import pytest

from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.budget.crosscut import crosscut
from stcoord.budget.unity import unity_check
from stcoord.db.session import Database
from stcoord.errors import ValidationFailed
from tests.budget.conftest import SCHEME


def cut(db: Database, actor: Actor = SYSTEM, **kw):  # type: ignore[no-untyped-def]
    with db.scope(write=False) as session:
        return crosscut(session, actor, jurisdiction="US", **kw)


def test_by_agency_and_year_with_growth_and_shares(budget_db: Database) -> None:
    result = cut(budget_db, by=["agency", "year"], phase="enacted")
    table = {(r.keys["agency"], r.keys["year"]): r for r in result.rows}
    assert table[("NSF", 2022)].amount == Decimal("300.00")
    assert table[("NSF", 2022)].growth == pytest.approx(1.0)  # 150 -> 300
    assert table[("DOE", 2021)].growth is None
    assert table[("NIST", 2023)].share_of_year == pytest.approx(10 / 1060)
    assert result.total == Decimal(150 + 200 + 10) * 1 + Decimal(300 + 400 + 10) + Decimal(
        450 + 600 + 10
    )


def test_by_field_includes_unclassified_money_so_totals_agree(budget_db: Database) -> None:
    by_field = cut(budget_db, by=["field", "year"], classification=SCHEME, years=[2021])
    table = {r.keys["field"]: r.amount for r in by_field.rows}
    assert table == {
        "(unclassified)": Decimal("10.00"),
        "AI": Decimal("100.00"),
        "HCIA": Decimal("200.00"),
        "LSN": Decimal("50.00"),
    }
    by_agency = cut(budget_db, by=["agency"], years=[2021])
    assert by_field.total == by_agency.total == Decimal("360.00")


def test_filters_and_the_request_phase(budget_db: Database) -> None:
    ai = cut(budget_db, by=["agency", "field"], classification=SCHEME, fields=["AI"], years=[2023])
    assert [(r.keys["agency"], r.amount) for r in ai.rows] == [("NSF", Decimal("300.00"))]
    requests = cut(budget_db, by=["agency"], phase="request", agencies=["DOE"])
    assert [r.amount for r in requests.rows] == [Decimal("2997.00")]


def test_bad_requests_are_refused(budget_db: Database) -> None:
    for kw in (
        {"by": ["colour"]},
        {"by": ["field"]},
        {"by": ["year"], "phase": "wish"},
        {"by": ["year", "year"]},
    ):
        with pytest.raises(ValidationFailed):
            cut(budget_db, **kw)  # type: ignore[arg-type]


def test_liaisons_see_only_their_agency_and_the_public_sees_nothing(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        from sqlalchemy import select

        from stcoord.budget.models import Agency

        nsf_body = session.scalars(select(Agency.body_id).where(Agency.code == "NSF")).one()
    liaison = Actor(username="li", role=Role.liaison, body_ids=frozenset({nsf_body}))
    result = cut(budget_db, actor=liaison, by=["agency"])
    assert [r.keys["agency"] for r in result.rows] == ["NSF"]
    with pytest.raises(PermissionDenied):
        cut(budget_db, actor=Actor(username="x", role=Role.anonymous), by=["agency"])


def test_unity_check_shares_of_steered_money(budget_db: Database) -> None:
    with budget_db.scope(write=False) as session:
        rows = unity_check(
            session, SYSTEM, jurisdiction="US", classification=SCHEME, fiscal_year=2022
        )
    table = {r.field: (r.steered, r.total) for r in rows}
    assert table["AI"] == (Decimal("100.00"), Decimal("200.00"))  # N2 steered, half of N1 not
    assert table["HCIA"] == (Decimal("0"), Decimal("400.00"))
    assert table["(unclassified)"] == (Decimal("0"), Decimal("10.00"))
    ai = next(r for r in rows if r.field == "AI")
    assert ai.steered_share == pytest.approx(0.5) and ai.strategic_field == "ai"
