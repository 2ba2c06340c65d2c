"""e-Rad style checks: one investigator funded by two agencies for similar work, and
concurrent funding above the office's threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database
from stcoord.errors import ValidationFailed
from stcoord.portfolio import researchers, screening
from tests.portfolio.conftest import import_file


@pytest.fixture
def screened(db: Database, two_agency_file: tuple[Path, Path]) -> int:
    data, mapping = two_agency_file
    result = import_file(db, data, mapping=mapping)
    assert (result.created, result.investigators_created) == (4, 2)
    with db.scope() as session:
        run_id = screening.create_run(session, SYSTEM, threshold=0.5).id
    screening.execute_run(db, SYSTEM, run_id)
    return run_id


def test_same_investigator_funded_by_two_agencies_for_similar_work(
    db: Database, screened: int
) -> None:
    with db.scope(write=False) as session:
        rows = researchers.funded_twice(session, SYSTEM, run_id=screened)
        pairs = screening.stored_pairs(session, SYSTEM, screened)
    assert [(p["left"], p["right"]) for p in pairs] == [("G1", "G2")]
    assert len(rows) == 1
    hit = rows[0]
    assert (hit.investigator, hit.institution) == ("Ana Lima", "Sun University")
    assert hit.cross_agency and hit.time_overlap and hit.score == pairs[0]["score"]


def test_concurrent_funding_above_the_office_threshold(db: Database, screened: int) -> None:
    with db.scope(write=False) as session:
        limit, _, none_yet = researchers.concurrent_funding(session, SYSTEM)
    assert limit is None and none_yet == []  # no threshold set: nothing to report
    with db.scope() as session:
        researchers.set_threshold(session, SYSTEM, amount="800000", currency="usd")
    with db.scope(write=False) as session:
        limit, currency, rows = researchers.concurrent_funding(session, SYSTEM)
    assert (limit, currency) == (Decimal("800000"), "USD")
    # Ana: G1 (500k, 2020-2022) and G2 (400k, from 2021-07-01) run together: 900k on 2021-07-01;
    # G3 starts after G1 ends. Ben's single 2M grant is above too.
    assert [(r.investigator, r.peak, r.peak_day, len(r.projects)) for r in rows] == [
        ("Ben Ode", Decimal("2000000.00"), dt.date(2020, 1, 1), 1),
        ("Ana Lima", Decimal("900000.00"), dt.date(2021, 7, 1), 2),
    ]
    with db.scope(write=False) as session:
        _, _, rows = researchers.concurrent_funding(session, SYSTEM, threshold="950000")
    assert [r.investigator for r in rows] == ["Ben Ode"]
    with db.scope() as session, pytest.raises(ValidationFailed):
        researchers.set_threshold(session, SYSTEM, amount="-5", currency="dollars")
