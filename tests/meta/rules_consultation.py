"""Route rules and fixture objects for the consultations routes (merged into ``RULES``)."""

from __future__ import annotations

from stcoord.db.session import Database
from tests.meta.route_rule import Rule

C = {"key": "xa-rfi"}
D = {"key": "xa-delphi"}
IMPORT = {"key": "xa-import"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
VOTES_CSV = b"timestamp,datetime,comment-id,voter-id,vote\n1,,0,0,1\n2,,0,1,-1\n"

RULES: dict[tuple[str, str], Rule] = {
    # REST API
    ("GET", "/api/v1/consultations"): Rule(None, query="format=csv"),
    ("POST", "/api/v1/consultations"): Rule(
        "consultation.manage",
        json={"key": "xa-new", "plan": "xa-ai", "kind": "rfi", "title": "New RFI"},
        expected=frozenset({409}),
    ),
    ("GET", "/api/v1/consultations/{key}"): Rule(None, path=C),
    ("POST", "/api/v1/consultations/{key}/status"): Rule(
        "consultation.manage", path=C, json={"status": "open"}
    ),
    ("POST", "/api/v1/consultations/{key}/participants"): Rule(
        "consultation.participate", path=C, json={"sector": "academia", "organisation": "U"}
    ),
    ("GET", "/api/v1/consultations/{key}/comments"): Rule(None, path=C, query="answered=false"),
    ("POST", "/api/v1/consultations/{key}/comments"): Rule(
        "consultation.participate", path=C, json={"text": "More compute", "section": "s1"}
    ),
    ("PUT", "/api/v1/consultations/{key}/comments/{comment_id}/disposition"): Rule(
        "consultation.answer",
        path={**C, "comment_id": "1"},
        json={"outcome": "adopted", "reason": "Added to section 1"},
    ),
    ("GET", "/api/v1/consultations/{key}/statements"): Rule(None, path=C, query="format=xlsx"),
    ("POST", "/api/v1/consultations/{key}/statements"): Rule(
        "consultation.participate", path=C, json={"text": "Fund open data"}
    ),
    ("PUT", "/api/v1/consultations/{key}/statements/{number}/vote"): Rule(
        "consultation.participate", path={**C, "number": "1"}, json={"value": 1}
    ),
    ("POST", "/api/v1/consultations/{key}/moderation"): Rule(
        "consultation.moderate",
        path=C,
        json={"target": "statement", "id": 1, "hidden": False},
    ),
    ("GET", "/api/v1/consultations/{key}/dashboard"): Rule("consultation.office", path=C),
    ("POST", "/api/v1/consultations/{key}/import"): Rule(
        "consultation.manage",
        path=IMPORT,
        files={"files": ("votes.csv", VOTES_CSV, "text/csv")},
        expected=frozenset({409}),
    ),
    ("GET", "/api/v1/consultations/{key}/delphi"): Rule(None, path=D),
    ("POST", "/api/v1/consultations/{key}/delphi/rounds"): Rule("consultation.manage", path=D),
    ("POST", "/api/v1/consultations/{key}/delphi/rounds/close"): Rule(
        "consultation.manage", path=D
    ),
    ("PUT", "/api/v1/consultations/{key}/delphi/ratings/{number}"): Rule(
        "consultation.participate", path={**D, "number": "1"}, json={"value": 5}
    ),
    # pages
    ("GET", "/consultations"): Rule(None, query="status=open&sort=-participants"),
    ("GET", "/consultations/{key}"): Rule(None, path=C),
    ("POST", "/consultations/{key}/register"): Rule(
        "consultation.participate",
        path=C,
        content="sector=industry&organisation=Atlantis+Robotics",
        headers=FORM,
        csrf=True,
    ),
    ("POST", "/consultations/{key}/comments"): Rule(
        "consultation.participate", path=C, content="text=Hello&section=s2", headers=FORM, csrf=True
    ),
    ("POST", "/consultations/{key}/statements"): Rule(
        "consultation.participate", path=C, content="text=Hello", headers=FORM, csrf=True
    ),
    ("POST", "/consultations/{key}/statements/{number}/vote"): Rule(
        "consultation.participate",
        path={**C, "number": "1"},
        content="value=-1",
        headers={**FORM, "hx-request": "true"},
        csrf=True,
    ),
    ("GET", "/consultations/{key}/delphi"): Rule(None, path=D),
    ("POST", "/consultations/{key}/delphi/ratings"): Rule(
        "consultation.participate", path=D, content="rating-1=4", headers=FORM, csrf=True
    ),
    ("POST", "/consultations/{key}/delphi/rounds"): Rule(
        "consultation.manage", path=D, content="action=open", headers=FORM, csrf=True
    ),
    ("GET", "/consultations/{key}/dashboard"): Rule("consultation.office", path=C),
    ("POST", "/consultations/{key}/status"): Rule(
        "consultation.manage", path=C, content="status=open", headers=FORM, csrf=True
    ),
    ("GET", "/consultations/{key}/moderation"): Rule("consultation.moderate", path=C),
    ("POST", "/consultations/{key}/moderation"): Rule(
        "consultation.moderate",
        path=C,
        content="target=comment&id=1&hidden=1&reason=spam",
        headers=FORM,
        csrf=True,
    ),
    ("GET", "/consultations/{key}/dispositions"): Rule(
        "consultation.answer", path=C, query="answered=no&sort=-id"
    ),
    ("POST", "/consultations/{key}/comments/{comment_id}/disposition"): Rule(
        "consultation.answer",
        path={**C, "comment_id": "1"},
        content="outcome=not_adopted&reason=Out+of+budget",
        headers=FORM,
        csrf=True,
    ),
    ("GET", "/consultations/{key}/reports/summary"): Rule(None, path=C),
    ("GET", "/consultations/{key}/reports/summary.pdf"): Rule(None, path=C),
    ("GET", "/consultations/{key}/reports/result"): Rule(None, path=C),
    ("GET", "/consultations/{key}/reports/result.pdf"): Rule(None, path=C),
}


def setup(db: Database) -> None:
    """Create the objects the sample requests above refer to (runs after the plan fixture):
    a public comment period on plan xa-ai with a draft, a statement and comment 1; a Delphi
    survey with statement 1 and an open round; an empty conversation to import into."""
    from stcoord.auth.permissions import SYSTEM
    from stcoord.consultation import delphi, service
    from stcoord.plans import service as plans

    with db.scope() as session:
        plans.add_draft(
            session,
            SYSTEM,
            plan_key="xa-ai",
            title="Draft",
            sections=[
                {"key": "s1", "heading": "Compute", "text": "..."},
                {"key": "s2", "heading": "Data", "text": "..."},
            ],
        )
        for key, kind in (("xa-rfi", "public_comment"), ("xa-delphi", "delphi")):
            service.create_consultation(
                session,
                SYSTEM,
                key=key,
                plan_key="xa-ai",
                kind=kind,
                title=key,
                draft_version=1 if kind == "public_comment" else None,
            )
            service.register(
                session,
                SYSTEM,
                key=key,
                sector="industry",
                organisation="Atlantis Robotics",
                handle="letter:1",
            )
            service.add_statement(
                session, SYSTEM, key=key, text="Compute first", participant="letter:1"
            )
        service.add_comment(
            session, SYSTEM, key="xa-rfi", text="Fund chips", participant="letter:1"
        )
        delphi.open_round(session, SYSTEM, key="xa-delphi")
        delphi.rate(session, SYSTEM, key="xa-delphi", statement=1, value=7, participant="letter:1")
        service.create_consultation(
            session, SYSTEM, key="xa-import", plan_key="xa-ai", kind="conversation", title="Import"
        )
