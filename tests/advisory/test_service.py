"""Advisory services: filing, recommendations, responses, status to closure, links, scoping,
conflicts, audit, import and adoption."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from stcoord.advisory import service
from stcoord.advisory.models import Recommendation, StatusChange
from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM, Actor, PermissionDenied, Role
from stcoord.db.session import Database
from stcoord.errors import Conflict, NotFound, ValidationFailed
from stcoord.institutions.models import Body, Jurisdiction
from tests.advisory.conftest import PLAN, REPORT

CSV = "number,text,addressed_to\n5,Open data,nsf;nist\n6,Train people,\n"


def _body_id(session, code: str, key: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalars(
        select(Body.id).join(Jurisdiction).where(Jurisdiction.code == code, Body.key == key)
    ).one()


def test_tracker_rows_carry_position_status_tasks_and_benefit(adv_db: Database) -> None:
    with adv_db.scope() as session:
        rows = service.tracker_rows(session, SYSTEM, service.TrackerFilter(report=REPORT))
        got = [(r.rec.number, r.position, r.rec.status) for r in rows]
        assert got == [
            ("1", "accept", "fully_addressed"),
            ("2", "partly_accept", "open"),
            ("3", "reject", "open"),
            ("4", None, "open"),
        ]
        first = rows[0]
        assert [(t.plan_key, t.code) for t in first.tasks] == [(PLAN, "US-T01")]
        assert first.rec.benefit_amount == Decimal("1500000.50")
        assert first.rec.benefit_currency == "USD"
        assert first.rec.addressed_to == ["ostp", "nsf"]
        assert first.rec.version == 4  # created 1, responded 2, linked 3, status 4
        history = session.scalars(select(StatusChange)).all()
        assert [(h.from_status, h.to_status, h.on_date) for h in history] == [
            ("open", "fully_addressed", dt.date(2025, 1, 15))
        ]


def test_filters_by_status_position_and_body(adv_db: Database) -> None:
    with adv_db.scope() as session:
        numbers = lambda **kw: [  # noqa: E731
            r.rec.number for r in service.tracker_rows(session, SYSTEM, service.TrackerFilter(**kw))
        ]
        assert numbers(status="open") == ["2", "3", "4"]
        assert numbers(position="none") == ["4"]
        assert numbers(position="reject") == ["3"]
        assert numbers(body="US:pcast") == ["1", "2", "3", "4"]
        assert numbers(body="US:naiac") == []
        with pytest.raises(ValidationFailed):
            numbers(status="closed")
        with pytest.raises(ValidationFailed):
            numbers(body="pcast")


def test_adoption_rate_of_pcast(adv_db: Database) -> None:
    with adv_db.scope() as session:
        (pcast,) = service.adoption(session, SYSTEM)
    assert pcast.body == "US:pcast"
    assert (pcast.total, pcast.accepted, pcast.partly_accepted, pcast.rejected) == (4, 1, 1, 1)
    assert pcast.unanswered == 1
    assert pcast.adoption_rate == 0.5
    assert pcast.fully_addressed_share == 0.25


def test_latest_response_is_the_position(adv_db: Database) -> None:
    with adv_db.scope() as session:
        service.respond(
            session,
            SYSTEM,
            report_key=REPORT,
            number="3",
            position="under_consideration",
            text="Reconsidering",
            on_date=dt.date(2024, 9, 1),
            responding_body="ostp",
            expected_version=2,
        )
    with adv_db.scope() as session:
        rec = service.get_recommendation(session, SYSTEM, REPORT, "3")
        assert [r.position for r in rec.responses] == ["reject", "under_consideration"]
        assert rec.position == "under_consideration"
        assert rec.responses[-1].responding_body_key == "ostp"


def test_stale_version_is_a_conflict_and_writes_nothing(adv_db: Database) -> None:
    with pytest.raises(Conflict) as caught, adv_db.scope() as session:
        service.set_status(
            session,
            SYSTEM,
            report_key=REPORT,
            number="2",
            status="partly_addressed",
            on_date=dt.date(2025, 1, 1),
            expected_version=1,  # it is 2 after the response
        )
    assert caught.value.current["version"] == 2
    assert caught.value.current["position"] == "partly_accept"
    with adv_db.scope() as session:
        assert service.get_recommendation(session, SYSTEM, REPORT, "2").status == "open"
    with pytest.raises(Conflict), adv_db.scope() as session:
        service.update_report(
            session, SYSTEM, key=REPORT, expected_version=7, changes={"title": "x"}
        )


def test_invalid_values_are_refused_with_their_paths(adv_db: Database) -> None:
    with pytest.raises(ValidationFailed) as caught, adv_db.scope() as session:
        service.set_status(
            session,
            SYSTEM,
            report_key=REPORT,
            number="2",
            status="fully_addressed",
            on_date=dt.date(2025, 1, 1),
            benefit_amount="12",
        )
    paths = sorted(d["path"] for d in caught.value.details)
    assert paths == ["benefit_currency", "evidence"]
    with pytest.raises(ValidationFailed) as caught, adv_db.scope() as session:
        service.respond(
            session,
            SYSTEM,
            report_key=REPORT,
            number="4",
            position="maybe",
            text="",
            on_date=dt.date(2024, 1, 1),
            responding_body="nobody",
        )
    assert sorted(d["path"] for d in caught.value.details) == [
        "position",
        "responding_body",
        "text",
    ]
    with pytest.raises(ValidationFailed), adv_db.scope() as session:
        service.file_report(session, SYSTEM, code="US", body="nsf", key="k", title="t")
    with pytest.raises(ValidationFailed), adv_db.scope() as session:
        service.add_recommendation(
            session, SYSTEM, report_key=REPORT, number="9", text="x", addressed_to=["atlantis"]
        )
    with pytest.raises(Conflict), adv_db.scope() as session:
        service.add_recommendation(session, SYSTEM, report_key=REPORT, number="1", text="x")
    with pytest.raises(NotFound), adv_db.scope() as session:
        service.get_recommendation(session, SYSTEM, REPORT, "99")


def test_advisors_write_only_their_own_bodies_reports(adv_db: Database) -> None:
    with adv_db.scope() as session:
        pcast = _body_id(session, "US", "pcast")
    member = Actor(username="adviser", role=Role.advisor, body_ids=frozenset({pcast}))
    outsider = Actor(username="other", role=Role.advisor, body_ids=frozenset())
    with adv_db.scope() as session:
        service.add_recommendation(session, member, report_key=REPORT, number="5", text="More")
        service.file_report(session, member, code="US", body="pcast", key="pcast-2", title="Second")
        assert [b.key for b in service.writable_bodies(session, member)] == ["pcast"]
    for attempt in (
        lambda s: service.add_recommendation(s, outsider, report_key=REPORT, number="6", text="x"),
        lambda s: service.file_report(s, member, code="US", body="naiac", key="n", title="t"),
        lambda s: service.respond(
            s,
            member,
            report_key=REPORT,
            number="4",
            position="accept",
            text="x",
            on_date=dt.date(2024, 1, 1),
        ),
    ):
        with pytest.raises(PermissionDenied), adv_db.scope() as session:
            attempt(session)
    viewer = Actor(username="v", role=Role.anonymous)
    with adv_db.scope() as session:
        assert len(service.tracker_rows(session, viewer)) == 5


def test_every_change_is_audited(adv_db: Database) -> None:
    with adv_db.scope() as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.action.like("advisory.%"))
        ).all()
    assert sorted(set(actions)) == [
        "advisory.link",
        "advisory.recommendation.create",
        "advisory.report.create",
        "advisory.response",
        "advisory.status",
    ]
    assert actions.count("advisory.recommendation.create") == 4


def test_link_and_unlink_tasks(adv_db: Database) -> None:
    with adv_db.scope() as session:
        with pytest.raises(Conflict):
            service.link_task(
                session, SYSTEM, report_key=REPORT, number="1", plan_key=PLAN, task_code="US-T01"
            )
        with pytest.raises(ValidationFailed):
            service.link_task(
                session, SYSTEM, report_key=REPORT, number="1", plan_key=PLAN, task_code="NOPE"
            )
        service.link_task(
            session, SYSTEM, report_key=REPORT, number="2", plan_key=PLAN, task_code="US-T01"
        )
    with adv_db.scope() as session:
        linked = service.recommendations_for_task(
            session, SYSTEM, plan_key=PLAN, task_code="US-T01"
        )
        assert [r.number for r in linked] == ["1", "2"]
        service.unlink_task(
            session, SYSTEM, report_key=REPORT, number="1", plan_key=PLAN, task_code="US-T01"
        )
    with adv_db.scope() as session:
        linked = service.recommendations_for_task(
            session, SYSTEM, plan_key=PLAN, task_code="US-T01"
        )
        assert [r.number for r in linked] == ["2"]


def test_import_adds_then_is_idempotent(adv_db: Database) -> None:
    with adv_db.scope() as session:
        result = service.import_recommendations(
            session, SYSTEM, report_key=REPORT, data=CSV.encode(), filename="recs.csv"
        )
        assert (result.created, result.updated) == (["5", "6"], [])
    with adv_db.scope() as session:
        again = service.import_recommendations(
            session, SYSTEM, report_key=REPORT, data=CSV.encode(), filename="recs.csv"
        )
        assert (again.created, again.updated, again.unchanged) == ([], [], ["5", "6"])
        changed = CSV.replace("Open data", "Open all data")
        third = service.import_recommendations(
            session, SYSTEM, report_key=REPORT, data=changed.encode(), filename="recs.csv"
        )
        assert third.updated == ["5"]
    with adv_db.scope() as session:
        rec = service.get_recommendation(session, SYSTEM, REPORT, "5")
        assert (rec.text, rec.addressed_to, rec.version) == ("Open all data", ["nsf", "nist"], 2)


def test_bad_import_names_rows_and_columns_and_writes_nothing(adv_db: Database) -> None:
    bad = "number,text,addressed_to,colour\n7,Fine,,\n7,Twice,,\n,,atlantis,\n"
    with pytest.raises(ValidationFailed) as caught, adv_db.scope() as session:
        service.import_recommendations(
            session, SYSTEM, report_key=REPORT, data=bad.encode(), filename="bad.csv"
        )
    got = sorted((d["row"], d["column"]) for d in caught.value.details)
    assert got == [
        (1, "colour"),
        (3, "number"),
        (4, "addressed_to"),
        (4, "number"),
        (4, "text"),
    ]
    with adv_db.scope() as session:
        count = session.scalars(select(Recommendation.id)).all()
        assert len(count) == 4


def test_import_xlsx(adv_db: Database) -> None:
    from stcoord.tabular import write_table

    data = write_table(["number", "text"], [[10, "Ten"], [2.5, "Two and a half"]], "xlsx")
    with adv_db.scope() as session:
        result = service.import_recommendations(
            session, SYSTEM, report_key=REPORT, data=data, filename="r.xlsx"
        )
    assert result.created == ["10", "2.5"]
    assert service.number_key("10") > service.number_key("2.5")
