"""Advisory fixtures: a fictional (demo) PCAST report with four recommendations, on the seeded
US mechanism and the seeded US AI R&D strategic plan."""

from __future__ import annotations

import datetime as dt

import pytest

from stcoord.advisory import service
from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database

REPORT = "pcast-demo"
PLAN = "us-ai-rd-strategic-plan"


@pytest.fixture
def adv_db(db: Database) -> Database:
    """Recommendations 1-4 of a demo PCAST report; 1 accepted and fully addressed with a
    benefit, 2 partly accepted, 3 rejected, 4 unanswered; 1 linked to task US-T01."""
    with db.scope() as session:
        service.file_report(
            session,
            SYSTEM,
            code="US",
            body="pcast",
            key=REPORT,
            title="Demo report on AI research",
            published_on=dt.date(2024, 4, 1),
        )
        for n, text in enumerate(["Fund AI research", "Share compute", "Cap salaries", "Audit"]):
            service.add_recommendation(
                session,
                SYSTEM,
                report_key=REPORT,
                number=str(n + 1),
                text=text,
                addressed_to=["ostp", "nsf"] if n == 0 else [],
            )
        for number, position in (("1", "accept"), ("2", "partly_accept"), ("3", "reject")):
            service.respond(
                session,
                SYSTEM,
                report_key=REPORT,
                number=number,
                position=position,
                text=f"Response to {number}",
                on_date=dt.date(2024, 6, 1),
            )
        service.link_task(
            session, SYSTEM, report_key=REPORT, number="1", plan_key=PLAN, task_code="US-T01"
        )
        service.set_status(
            session,
            SYSTEM,
            report_key=REPORT,
            number="1",
            status="fully_addressed",
            on_date=dt.date(2025, 1, 15),
            benefit="Funding doubled",
            benefit_amount="1500000.50",
            benefit_currency="usd",
            evidence="FY2025 budget",
        )
    return db
