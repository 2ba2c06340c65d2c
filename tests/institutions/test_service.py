"""Mechanism registry services on both databases: load, export, edit, audit, permissions."""

import pytest
from sqlalchemy import func, select

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import ANONYMOUS, SYSTEM, Actor, PermissionDenied, Role
from stcoord.db.session import Database
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.institutions import service
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.models import Body, Jurisdiction, Seat
from tests.conftest import fixture_text

MINI = fixture_text("mini.yaml")


def load(db: Database, text: str = MINI, actor: Actor = SYSTEM) -> service.LoadResult:
    with db.scope() as session:
        return service.load_mechanism(session, actor, parse_mechanism(text))


def audit_count(db: Database, action: str, key: str = "XA") -> int:
    with db.scope(write=False) as session:
        stmt = (
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == action, AuditRecord.object_key.like(f"{key}%"))
        )
        return session.scalar(stmt) or 0


def xa_body(key: str):  # type: ignore[no-untyped-def]
    """A select of one body of the fixture mechanism (keys repeat across jurisdictions)."""
    return select(Body).join(Jurisdiction).where(Jurisdiction.code == "XA", Body.key == key)


def test_reference_mechanisms_are_seeded(db: Database) -> None:
    with db.scope(write=False) as session:
        codes = [j.code for j in service.list_jurisdictions(session, ANONYMOUS)]
    assert {"CN", "JP", "US"} <= set(codes)


def test_load_creates_then_is_idempotent(db: Database) -> None:
    first = load(db)
    assert (first.created, first.changed, len(first.bodies_added)) == (True, True, 6)
    with db.scope(write=False) as session:
        council_id = session.scalars(xa_body("council")).one().id
        before = service.export_mechanism(session, ANONYMOUS, "XA")
    second = load(db)
    assert (second.created, second.changed) == (False, False)
    assert audit_count(db, "mechanism.load") == 1  # the no-op load wrote nothing
    with db.scope(write=False) as session:
        assert service.export_mechanism(session, ANONYMOUS, "XA") == before
        assert session.scalars(xa_body("council")).one().id == council_id


def test_export_loads_back_to_the_same_state(db: Database) -> None:
    from stcoord.institutions.mechanism_file import dump_mechanism

    load(db)
    with db.scope(write=False) as session:
        exported = dump_mechanism(service.export_mechanism(session, ANONYMOUS, "XA"))
    assert parse_mechanism(exported) == parse_mechanism(MINI)
    assert not load(db, exported).changed


def test_reference_mechanisms_round_trip_through_the_database(db: Database) -> None:
    from stcoord.reference import mechanism_files

    with db.scope(write=False) as session:
        for path in mechanism_files():
            spec = parse_mechanism(path.read_text(encoding="utf-8"))
            assert service.export_mechanism(session, ANONYMOUS, spec.jurisdiction.code) == spec


def test_reload_with_changes_keeps_body_ids_and_audits_the_diff(db: Database) -> None:
    load(db)
    with db.scope(write=False) as session:
        council_id = session.scalars(xa_body("council")).one().id
    changed = (
        MINI.replace("name: Science Council", "name: Supreme Science Council")
        .replace(
            "  - key: agency\n    name: Research Agency\n    kind: funding_agency\n"
            "    level: agency\n    parent: research\n",
            "",
        )
        .replace("  - {from: research, to: agency, type: funds}\n", "")
    )
    result = load(db, changed)
    assert (result.bodies_changed, result.bodies_removed) == (["council"], ["agency"])
    with db.scope(write=False) as session:
        council = session.scalars(xa_body("council")).one()
        assert (council.id, council.name, council.version) == (
            council_id,
            "Supreme Science Council",
            2,
        )
        record = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_key == "XA")
            .order_by(AuditRecord.id.desc())
        ).first()
    assert record is not None
    assert record.before["bodies"]["council"]["name"] == "Science Council"
    assert record.after["bodies"]["council"]["name"] == "Supreme Science Council"
    assert "agency" in record.before["bodies"] and "agency" not in record.after["bodies"]


def test_a_failing_load_changes_nothing(db: Database) -> None:
    load(db)
    with db.scope(write=False) as session:
        seats_before = session.scalar(select(func.count()).select_from(Seat))
        assert seats_before
    spec = parse_mechanism(MINI.replace("name: Science Council", "name: Renamed"))
    with pytest.raises(RuntimeError), db.scope() as session:
        service.load_mechanism(session, SYSTEM, spec)
        raise RuntimeError("failure after the load, inside the same transaction")
    with db.scope(write=False) as session:
        assert session.scalars(xa_body("council")).one().name == "Science Council"
        assert session.scalar(select(func.count()).select_from(Seat)) == seats_before
    assert audit_count(db, "mechanism.load") == 1


@pytest.mark.parametrize("role", [Role.viewer, Role.stakeholder, Role.advisor, Role.liaison])
def test_only_coordinators_and_admins_load(db: Database, role: Role) -> None:
    with pytest.raises(PermissionDenied):
        load(db, actor=Actor(username="x", role=role))
    assert load(db, actor=Actor(username="c", role=Role.coordinator)).created


def test_list_bodies_filters_sorts_and_pages(db: Database) -> None:
    load(db)
    with db.scope(write=False) as session:
        rows, total = service.list_bodies(session, ANONYMOUS, "XA", level="ministerial")
        assert (total, [r.key for r in rows]) == (2, ["finance", "research"])
        rows, total = service.list_bodies(session, ANONYMOUS, "xa", sort="-name", limit=2)
        assert total == 6
        assert [r.name for r in rows] == ["Science Council", "Research Agency"]
        rows, _ = service.list_bodies(session, ANONYMOUS, "XA", q="SC")
        assert [r.key for r in rows] == ["council"]
        assert rows[0].seats == 6 and rows[0].parent == "head"
        with pytest.raises(ValidationFailed):
            service.list_bodies(session, ANONYMOUS, "XA", sort="colour")
        with pytest.raises(NotFound):
            service.list_bodies(session, ANONYMOUS, "ZZ")


def _council_id(db: Database) -> int:
    with db.scope(write=False) as session:
        return int(session.scalars(xa_body("council")).one().id)


def test_update_body_checks_version_scope_and_audits(db: Database) -> None:
    load(db)
    council = _council_id(db)
    liaison = Actor(username="liaison", role=Role.liaison, body_ids=frozenset({council}))
    with db.scope() as session:
        body = service.update_body(
            session,
            liaison,
            code="XA",
            key="council",
            expected_version=1,
            changes={"description": "Top body"},
        )
        assert body.version == 2
    with pytest.raises(Conflict) as info, db.scope() as session:
        service.update_body(
            session,
            liaison,
            code="XA",
            key="council",
            expected_version=1,
            changes={"description": "stale"},
        )
    assert info.value.current["description"] == "Top body"
    with pytest.raises(PermissionDenied), db.scope() as session:
        service.update_body(
            session,
            liaison,
            code="XA",
            key="finance",
            expected_version=1,
            changes={"description": "not mine"},
        )
    with pytest.raises(ValidationFailed), db.scope() as session:
        service.update_body(
            session, SYSTEM, code="XA", key="council", expected_version=2, changes={"level": "head"}
        )
    with db.scope(write=False) as session:
        records = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "body.update")
        ).all()
    assert len(records) == 1
    assert records[0].actor_name == "liaison"
    assert (records[0].before, records[0].after) == (
        {"description": None, "version": 1},
        {"description": "Top body", "version": 2},
    )
