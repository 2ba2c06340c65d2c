"""Route rules and fixture objects of the advisory routes (merged into ``RULES``).

The fixture: report ``xa-panel-1`` of XA's AI expert panel with recommendations 1 and 2;
1 has a response and is linked to task T1 of plan ``xa-ai``. The matrix gives advisors no body
scopes, so their writes scoped to a body are refused (403), which the rules expect.
"""

from __future__ import annotations

from stcoord.db.session import Database
from tests.meta.route_rule import Rule

REPORT = {"key": "xa-panel-1"}
REC = {**REPORT, "number": "1"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
OWN_BODY = frozenset({403})  # an advisor of no body may not write a body's report
API = "/api/v1/advisory"
PAGES_REC = "/advisory/reports/{key}/recommendations/{number}"
API_REC = API + "/reports/{key}/recommendations/{number}"
CSV = ("recs.csv", b"number,text\n7,Seven\n", "text/csv")

RULES: dict[tuple[str, str], Rule] = {
    # ---------------------------------------------------------------- reading (public)
    ("GET", "/advisory"): Rule(None),
    ("GET", "/advisory/recommendations"): Rule(None, query="status=open&sort=-number"),
    ("GET", "/advisory/recommendations.{fmt}"): Rule(None, path={"fmt": "xlsx"}),
    ("GET", "/advisory/reports/{key}"): Rule(None, path=REPORT),
    ("GET", PAGES_REC): Rule(None, path=REC),
    ("GET", "/advisory/tracker"): Rule(None),
    ("GET", "/advisory/tracker.pdf"): Rule(None, query="jurisdiction=XA"),
    ("GET", API + "/adoption"): Rule(None),
    ("GET", API + "/bodies"): Rule(None),
    ("GET", API + "/recommendations"): Rule(None, query="position=none"),
    ("GET", API + "/recommendations.{fmt}"): Rule(None, path={"fmt": "csv"}),
    ("GET", API + "/reports"): Rule(None),
    ("GET", API + "/reports/{key}"): Rule(None, path=REPORT),
    ("GET", API_REC): Rule(None, path=REC),
    ("GET", API + "/tasks/{plan}/{task}/recommendations"): Rule(
        None, path={"plan": "xa-ai", "task": "T1"}
    ),
    ("GET", API + "/tracker"): Rule(None),
    # ---------------------------------------------------------------- advisers
    ("GET", "/advisory/reports/new"): Rule("advisory.write"),
    ("POST", "/advisory/reports"): Rule(
        "advisory.write",
        csrf=True,
        headers=FORM,
        content="body=XA:ai_panel&key=xa-panel-9&title=Ninth",
        expected=OWN_BODY,
    ),
    ("POST", "/advisory/reports/{key}/recommendations"): Rule(
        "advisory.write",
        path=REPORT,
        csrf=True,
        headers=FORM,
        content="number=8&text=Eight",
        expected=OWN_BODY,
    ),
    ("POST", "/advisory/reports/{key}/import"): Rule(
        "advisory.write", path=REPORT, csrf=True, files={"file": CSV}, expected=OWN_BODY
    ),
    ("POST", API + "/reports"): Rule(
        "advisory.write",
        json={"jurisdiction": "XA", "body": "ai_panel", "key": "xa-panel-2", "title": "Second"},
        expected=OWN_BODY,
    ),
    ("PATCH", API + "/reports/{key}"): Rule(
        "advisory.write", path=REPORT, json={"version": 1, "title": "New"}, expected=OWN_BODY
    ),
    ("POST", API + "/reports/{key}/recommendations"): Rule(
        "advisory.write", path=REPORT, json={"number": "9", "text": "Nine"}, expected=OWN_BODY
    ),
    ("POST", API + "/reports/{key}/recommendations/import"): Rule(
        "advisory.write", path=REPORT, files={"file": CSV}, expected=OWN_BODY
    ),
    ("PATCH", API_REC): Rule(
        "advisory.write", path=REC, json={"version": 2, "text": "One"}, expected=OWN_BODY
    ),
    # ---------------------------------------------------------------- the office
    ("POST", PAGES_REC + "/respond"): Rule(
        "advisory.respond",
        path={**REPORT, "number": "2"},
        csrf=True,
        headers=FORM,
        content="version=1&position=accept&text=Yes&on_date=2024-05-01",
    ),
    ("POST", PAGES_REC + "/status"): Rule(
        "advisory.respond",
        path=REC,
        csrf=True,
        headers=FORM,
        content="version=3&status=partly_addressed&on_date=2024-06-01",
    ),
    ("POST", PAGES_REC + "/tasks"): Rule(
        "advisory.respond",
        path={**REPORT, "number": "2"},
        csrf=True,
        headers=FORM,
        content="version=1&task=xa-ai/T1",
    ),
    ("POST", API_REC + "/responses"): Rule(
        "advisory.respond",
        path=REC,
        json={"version": 3, "position": "reject", "text": "No", "on_date": "2024-05-01"},
    ),
    ("POST", API_REC + "/status"): Rule(
        "advisory.respond",
        path=REC,
        json={"version": 3, "status": "partly_addressed", "on_date": "2024-06-01"},
    ),
    ("POST", API_REC + "/tasks"): Rule(
        "advisory.respond", path={**REPORT, "number": "2"}, json={"plan": "xa-ai", "task": "T1"}
    ),
    ("DELETE", API_REC + "/tasks/{plan}/{task}"): Rule(
        "advisory.respond", path={**REC, "plan": "xa-ai", "task": "T1"}
    ),
}


def setup(db: Database) -> None:
    """Create the objects the sample requests above refer to (runs after the plan fixture)."""
    import datetime as dt

    from stcoord.advisory import service
    from stcoord.auth.permissions import SYSTEM

    with db.scope() as session:
        service.file_report(
            session, SYSTEM, code="XA", body="ai_panel", key="xa-panel-1", title="Panel report"
        )
        for number in ("1", "2"):
            service.add_recommendation(
                session, SYSTEM, report_key="xa-panel-1", number=number, text=f"Do {number}"
            )
        service.respond(
            session,
            SYSTEM,
            report_key="xa-panel-1",
            number="1",
            position="accept",
            text="Agreed",
            on_date=dt.date(2024, 3, 1),
        )
        service.link_task(
            session, SYSTEM, report_key="xa-panel-1", number="1", plan_key="xa-ai", task_code="T1"
        )
