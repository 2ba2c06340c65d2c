"""Reads run a fixed number of queries whatever the size of the mechanism (no N+1)."""

from sqlalchemy.orm import Session

from stcoord.auth.permissions import ANONYMOUS, SYSTEM
from stcoord.db.session import Database
from stcoord.institutions import service
from stcoord.institutions.mechanism_file import parse_mechanism
from tests.conftest import fixture_text
from tests.helpers import QueryCounter


def count(db: Database, read) -> int:  # type: ignore[no-untyped-def]
    with db.scope(write=False) as session, QueryCounter(db.engine) as counter:
        read(session)
    return counter.count


def test_reading_a_mechanism_costs_the_same_for_small_and_large(db: Database) -> None:
    with db.scope() as session:
        service.load_mechanism(session, SYSTEM, parse_mechanism(fixture_text("mini.yaml")))

    def export(code: str):  # type: ignore[no-untyped-def]
        return lambda s: service.export_mechanism(s, ANONYMOUS, code)

    def bodies(code: str):  # type: ignore[no-untyped-def]
        return lambda s: service.list_bodies(s, ANONYMOUS, code, limit=500)

    small, large = count(db, export("XA")), count(db, export("US"))
    assert small == large <= 10  # one query per table, plus BEGIN on SQLite
    assert count(db, bodies("XA")) == count(db, bodies("US")) <= 4
    assert count(db, lambda s: service.list_jurisdictions(s, ANONYMOUS)) <= 2  # one statement


def test_body_page_data_is_bounded(db: Database) -> None:
    def body_page(session: Session) -> None:
        body = service.get_body(session, ANONYMOUS, "US", "nstc")
        service.body_relations(session, body)

    assert count(db, body_page) <= 9
