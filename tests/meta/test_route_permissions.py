"""Every route of the app against every role, anonymous included.

A route added later fails ``test_every_route_is_covered`` until it gets a line in ``RULES``:
the action it needs (None for public reads) and a sample request. The expected answer for each
role comes from the one policy table (``POLICY``), so the test checks that routes really go
through the choke point rather than restating it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from stcoord.auth.permissions import Actor, Role, allowed
from stcoord.db.session import Database
from tests.conftest import fixture_text
from tests.helpers import csrf_from, token_for
from tests.meta import rules_advisory, rules_consultation, rules_portfolio
from tests.meta.route_rule import Rule

MINI = fixture_text("mini.yaml")


BODY = {"code": "JP", "key": "mext"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
PLAN = {"key": "xa-ai"}
TASK = {"key": "xa-ai", "code": "T1"}
PLAN_FILE = """format: stcoord-plan/1
key: xa-loaded
jurisdiction: XA
template: ai_plan
title: Loaded plan
procedure: {opened_on: 2024-01-01}
"""
CLASSIFICATION = """key: test-scheme
name: Test
jurisdiction: XA
fields: [{key: A, name: A}]
"""
TASKS_CSV = b"code,title,goal,lead_body,supporting,weight,budget_link,description\nT7,New,,,,,,\n"
RULES: dict[tuple[str, str], Rule] = {
    **rules_portfolio.RULES,
    **rules_consultation.RULES,
    **rules_advisory.RULES,
    ("GET", "/api/v1/mechanisms"): Rule(None),
    ("POST", "/api/v1/mechanisms"): Rule(
        "mechanism.write", content=MINI, headers={"content-type": "application/yaml"}
    ),
    ("GET", "/api/v1/mechanisms/{code}"): Rule(None, path={"code": "JP"}),
    ("GET", "/api/v1/mechanisms/{code}/export"): Rule(None, path={"code": "JP"}),
    ("GET", "/api/v1/mechanisms/{code}/bodies"): Rule(None, path={"code": "JP"}),
    ("GET", "/api/v1/mechanisms/{code}/bodies/{key}"): Rule(None, path=BODY),
    ("PATCH", "/api/v1/mechanisms/{code}/bodies/{key}"): Rule(
        "body.write", path=BODY, json={"version": 1, "note": "checked"}
    ),
    ("GET", "/api/v1/mechanisms/{code}/diagnosis"): Rule(
        None, path={"code": "JP"}, query="field=ai"
    ),
    ("GET", "/api/v1/compare"): Rule(None, query="codes=US&codes=JP&field=ai"),
    ("GET", "/api/v1/me"): Rule(None),
    ("GET", "/api/v1/users"): Rule("user.read"),
    ("POST", "/api/v1/users"): Rule(
        "user.manage", json={"username": "new", "password": "long-enough-pw", "role": "viewer"}
    ),
    ("POST", "/api/v1/tokens"): Rule("token.manage", json={"name": "script"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Rule("token.manage", path={"token_id": "999999"}),
    ("GET", "/api/v1/audit"): Rule("audit.read"),
    ("GET", "/"): Rule(None),
    ("GET", "/login"): Rule(None),
    ("POST", "/login"): Rule(
        None,
        content="username=x&password=wrong",
        csrf=True,
        headers={"content-type": "application/x-www-form-urlencoded"},
        expected=frozenset({401}),
    ),
    ("POST", "/logout"): Rule(None, csrf=True),
    ("GET", "/mechanisms/{code}"): Rule(None, path={"code": "JP"}),
    ("GET", "/mechanisms/{code}/bodies.csv"): Rule(None, path={"code": "JP"}),
    ("GET", "/mechanisms/{code}/bodies/{key}"): Rule(None, path=BODY),
    ("POST", "/mechanisms/{code}/bodies/{key}"): Rule(
        "body.write",
        path=BODY,
        csrf=True,
        content="version=1&name=MEXT",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    ("GET", "/mechanisms/{code}/diagnosis"): Rule(None, path={"code": "JP"}, query="field=ai"),
    ("GET", "/compare"): Rule(None, query="codes=US&codes=JP&field=ai"),
    ("GET", "/mechanisms/load"): Rule("mechanism.write"),
    ("POST", "/mechanisms/load"): Rule(
        "mechanism.write", csrf=True, files={"file": ("xa.yaml", MINI.encode(), "text/yaml")}
    ),
    ("GET", "/api/v1/budget/classifications"): Rule("budget.read"),
    ("POST", "/api/v1/budget/classifications"): Rule(
        "budget.manage", content=CLASSIFICATION, headers={"content-type": "application/yaml"}
    ),
    ("GET", "/api/v1/budget/crosscut"): Rule("budget.read", query="jurisdiction=XA&by=agency"),
    ("GET", "/api/v1/budget/unity"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020&year=2024"
    ),
    ("POST", "/api/v1/budget/datacalls"): Rule(
        "budget.manage",
        json={
            "key": "dc2",
            "jurisdiction": "XA",
            "fiscal_year": 2025,
            "classification": "nitrd-pca-fy2020",
            "title": "t",
            "currency": "USD",
            "agencies": ["RES"],
        },
    ),
    ("GET", "/api/v1/budget/datacalls/{key}"): Rule("budget.read", path={"key": "dc"}),
    ("GET", "/api/v1/budget/datacalls/{key}/template/{agency}.{fmt}"): Rule(
        "budget.read", path={"key": "dc", "agency": "RES", "fmt": "csv"}
    ),
    ("POST", "/api/v1/budget/datacalls/{key}/submissions/{agency}"): Rule(
        "budget.submit",
        path={"key": "dc", "agency": "RES"},
        files={"file": ("res.csv", b"line_key,title,request\nR1,Research,10\n", "text/csv")},
    ),
    ("GET", "/api/v1/budget/priorities"): Rule("budget.read"),
    ("POST", "/api/v1/budget/priorities"): Rule(
        "budget.manage",
        json={
            "key": "p9",
            "title": "t",
            "classification": "nitrd-pca-fy2020",
            "fiscal_year": 2024,
            "method": "direct",
            "weights": {"AI": 1},
        },
    ),
    ("GET", "/api/v1/budget/priorities/{key}"): Rule("budget.read", path={"key": "p1"}),
    ("GET", "/api/v1/budget/scenarios"): Rule("budget.read"),
    ("POST", "/api/v1/budget/scenarios"): Rule(
        "budget.manage",
        json={"key": "s9", "title": "t", "priorities": "p1", "base_year": 2024, "envelope": 100},
    ),
    ("GET", "/api/v1/budget/scenarios/compare"): Rule("budget.read", query="keys=nope"),
    ("GET", "/api/v1/budget/scenarios/{key}"): Rule("budget.read", path={"key": "nope"}),
    ("GET", "/plans"): Rule(None),
    ("GET", "/plans.csv"): Rule(None),
    ("GET", "/plans/{key}"): Rule(None, path=PLAN),
    ("POST", "/plans/{key}/inputs"): Rule(
        "plan.manage", path=PLAN, csrf=True, content="channel=industry&summary=x", headers=FORM
    ),
    ("POST", "/plans/{key}/outputs"): Rule(
        "plan.manage", path=PLAN, csrf=True, content="name=x", headers=FORM
    ),
    ("POST", "/plans/{key}/decisions"): Rule(
        "plan.manage",
        path=PLAN,
        csrf=True,
        headers=FORM,
        content="body=council&on_date=2024-02-01&role=chair&holder_type=head_of_government"
        "&present=1&consensus=1",
    ),
    ("POST", "/plans/{key}/advance"): Rule(
        "plan.manage", path=PLAN, csrf=True, content="on_date=2024-02-01", headers=FORM
    ),
    ("GET", "/plans/{key}/goals"): Rule(None, path=PLAN),
    ("GET", "/plans/{key}/tasks/{code}"): Rule(None, path=TASK),
    ("POST", "/plans/{key}/tasks/{code}/progress"): Rule(
        "task.report",
        path=TASK,
        csrf=True,
        content="period=2024-Q1&percent_complete=10",
        headers=FORM,
    ),
    ("POST", "/plans/{key}/tasks/{code}/milestones/{milestone}/complete"): Rule(
        "task.report",
        path={**TASK, "milestone": "M1"},
        csrf=True,
        content="completed_on=2024-05-01",
        headers=FORM,
    ),
    ("GET", "/plans/{key}/drafts"): Rule(None, path=PLAN),
    ("GET", "/plans/{key}/drafts/diff"): Rule(None, path=PLAN, query="old=1&new=1"),
    ("GET", "/plans/{key}/drafts/{version}"): Rule(None, path={**PLAN, "version": "1"}),
    ("GET", "/plans/{key}/alignment"): Rule(None, path=PLAN),
    ("GET", "/plans/{key}/reports/dossier"): Rule(None, path=PLAN),
    ("GET", "/plans/{key}/reports/dossier.pdf"): Rule(None, path=PLAN),
    ("GET", "/plans/{key}/reports/progress"): Rule(None, path=PLAN),
    ("GET", "/plans/{key}/reports/progress.pdf"): Rule(None, path=PLAN),
    ("GET", "/budget"): Rule("budget.read"),
    ("GET", "/budget/crosscut"): Rule("budget.read", query="jurisdiction=XA"),
    ("GET", "/budget/crosscut.csv"): Rule("budget.read", query="jurisdiction=XA"),
    ("GET", "/budget/crosscut.xlsx"): Rule("budget.read", query="jurisdiction=XA"),
    ("GET", "/budget/unity"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020&year=2024"
    ),
    ("GET", "/budget/datacalls"): Rule("budget.read"),
    ("GET", "/budget/datacalls/new"): Rule("budget.manage"),
    ("POST", "/budget/datacalls"): Rule(
        "budget.manage",
        csrf=True,
        headers=FORM,
        content="key=dc3&title=t&jurisdiction=XA&fiscal_year=2025&classification="
        "nitrd-pca-fy2020&currency=USD&agencies=RES",
    ),
    ("GET", "/budget/datacalls/{key}"): Rule("budget.read", path={"key": "dc"}),
    ("POST", "/budget/datacalls/{key}/submissions/{agency}"): Rule(
        "budget.submit",
        path={"key": "dc", "agency": "RES"},
        csrf=True,
        files={"file": ("res.csv", b"line_key,title,request\nR1,Research,10\n", "text/csv")},
    ),
    ("GET", "/budget/priorities"): Rule("budget.read"),
    ("GET", "/budget/priorities/new"): Rule("budget.manage"),
    ("POST", "/budget/priorities"): Rule(
        "budget.manage",
        csrf=True,
        headers=FORM,
        content="key=p8&title=t&classification=nitrd-pca-fy2020&fiscal_year=2024"
        "&method=direct&w:AI=1&action=save",
    ),
    ("GET", "/budget/priorities/{key}"): Rule("budget.read", path={"key": "p1"}),
    ("POST", "/budget/priorities/{key}/memo"): Rule(
        "budget.manage", path={"key": "p1"}, csrf=True, headers=FORM, content="version=1&memo=m"
    ),
    ("GET", "/budget/scenarios"): Rule("budget.read"),
    ("POST", "/budget/scenarios"): Rule(
        "budget.manage",
        csrf=True,
        headers=FORM,
        content="key=s8&title=t&priorities=p1&base_year=2024&envelope=100",
    ),
    ("GET", "/budget/scenarios/compare"): Rule("budget.read", query="keys=nope"),
    ("GET", "/budget/scenarios/{key}"): Rule("budget.read", path={"key": "nope"}),
    ("GET", "/budget/supplement"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020"
    ),
    ("GET", "/budget/supplement.pdf"): Rule(
        "budget.read", query="jurisdiction=XA&classification=nitrd-pca-fy2020"
    ),
    ("GET", "/api/v1/plans"): Rule(None),
    ("POST", "/api/v1/plans"): Rule(
        "plan.manage",
        json={"jurisdiction": "XA", "template": "ai_plan", "key": "xa-2", "title": "Second"},
    ),
    ("POST", "/api/v1/plans/load"): Rule(
        "plan.manage", content=PLAN_FILE, headers={"content-type": "application/yaml"}
    ),
    ("GET", "/api/v1/plans/{key}"): Rule(None, path=PLAN),
    ("GET", "/api/v1/plans/{key}/status"): Rule(None, path=PLAN),
    ("GET", "/api/v1/plans/{key}/timeline"): Rule(None, path=PLAN),
    ("POST", "/api/v1/plans/{key}/advance"): Rule("plan.manage", path=PLAN, json={}),
    ("POST", "/api/v1/plans/{key}/outputs"): Rule("plan.manage", path=PLAN, json={"name": "x"}),
    ("POST", "/api/v1/plans/{key}/inputs"): Rule(
        "plan.manage", path=PLAN, json={"channel": "industry", "summary": "x"}
    ),
    ("POST", "/api/v1/plans/{key}/decisions"): Rule(
        "plan.manage",
        path=PLAN,
        json={"body": "council", "on_date": "2024-02-01", "attendees": [], "consensus": True},
    ),
    ("GET", "/api/v1/plans/{key}/drafts"): Rule(None, path=PLAN),
    ("POST", "/api/v1/plans/{key}/drafts"): Rule(
        "plan.manage", path=PLAN, json={"title": "v", "sections": []}
    ),
    ("GET", "/api/v1/plans/{key}/drafts/diff"): Rule(None, path=PLAN, query="old=1&new=1"),
    ("GET", "/api/v1/plans/{key}/drafts/{version}"): Rule(None, path={**PLAN, "version": "1"}),
    ("POST", "/api/v1/plans/{key}/goals"): Rule(
        "plan.manage", path=PLAN, json={"code": "G9", "kind": "goal", "title": "g"}
    ),
    ("GET", "/api/v1/plans/{key}/tasks"): Rule(None, path=PLAN),
    ("POST", "/api/v1/plans/{key}/tasks"): Rule(
        "plan.manage", path=PLAN, json={"code": "T9", "title": "t"}
    ),
    ("GET", "/api/v1/plans/{key}/tasks/{code}"): Rule(None, path=TASK),
    ("PATCH", "/api/v1/plans/{key}/tasks/{code}"): Rule(
        "plan.manage", path=TASK, json={"version": 1, "title": "t"}
    ),
    ("POST", "/api/v1/plans/{key}/tasks/{code}/milestones"): Rule(
        "plan.manage", path=TASK, json={"code": "M9", "title": "m", "due": "2025-01-01"}
    ),
    ("POST", "/api/v1/plans/{key}/tasks/{code}/milestones/{milestone}/complete"): Rule(
        "task.report", path={**TASK, "milestone": "M1"}, json={"completed_on": "2024-05-01"}
    ),
    ("POST", "/api/v1/plans/{key}/tasks/{code}/progress"): Rule(
        "task.report", path=TASK, json={"period": "2024-Q1", "percent_complete": 10}
    ),
    ("POST", "/api/v1/plans/{key}/indicators"): Rule(
        "plan.manage",
        path=PLAN,
        json={
            "code": "I9",
            "name": "n",
            "unit": "u",
            "baseline": 0,
            "target": 1,
            "direction": "increase",
        },
    ),
    ("GET", "/api/v1/plans/{key}/indicators/{code}"): Rule(None, path={**PLAN, "code": "I1"}),
    ("POST", "/api/v1/plans/{key}/indicators/{code}/measurements"): Rule(
        "task.report", path={**PLAN, "code": "I1"}, json={"on_date": "2024-05-01", "value": 1}
    ),
    ("GET", "/api/v1/plans/{key}/alignment"): Rule(None, path=PLAN),
    ("GET", "/api/v1/plans/{key}/sheets/{sheet}.{fmt}"): Rule(
        None, path={**PLAN, "sheet": "tasks", "fmt": "csv"}
    ),
    ("POST", "/api/v1/plans/{key}/sheets/{sheet}"): Rule(
        "plan.manage",
        path={**PLAN, "sheet": "tasks"},
        files={"file": ("tasks.csv", TASKS_CSV, "text/csv")},
    ),
}
ROLES = [Role.anonymous, *[r for r in Role if r is not Role.anonymous]]
IGNORED_PATHS = {"/api/docs", "/api/docs/oauth2-redirect", "/api/v1/openapi.json", "/static"}


def _flatten(app: Any) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, looking inside included routers."""
    out = []
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI's lazily included router
            out += [(ctx.path, set(ctx.methods or ())) for ctx in route.effective_route_contexts()]
        elif isinstance(route, APIRoute | Route):
            out.append((route.path, set(route.methods or ())))
    return out


def app_routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, methods in _flatten(app)
        if path not in IGNORED_PATHS
        for method in methods
        if method != "HEAD"
    }


def test_every_route_is_covered(app: Any) -> None:
    missing = sorted(app_routes(app) - set(RULES))
    assert not missing, f"routes without a permission rule in RULES: {missing}"
    stale = sorted(set(RULES) - app_routes(app))
    assert not stale, f"RULES names routes the app no longer has: {stale}"


def _request(client: TestClient, method: str, path: str, rule: Rule, token: str | None) -> Any:
    url = path.format(**rule.path) + (f"?{rule.query}" if rule.query else "")
    headers = dict(rule.headers)
    if rule.csrf:
        headers["x-csrf-token"] = csrf_from(client.get("/login").text)
    if token:
        headers["authorization"] = f"Bearer {token}"
    return client.request(
        method,
        url,
        json=rule.json,
        content=rule.content,
        files=rule.files,
        headers=headers,
        follow_redirects=False,
    )


def _plan_fixture(db: Database) -> None:
    """A plan with a task led by XA's research ministry (the liaison's body) and an indicator."""
    from stcoord.auth.permissions import SYSTEM
    from stcoord.institutions.mechanism_file import parse_mechanism
    from stcoord.institutions.service import load_mechanism
    from stcoord.plans import service

    with db.scope() as session:
        load_mechanism(session, SYSTEM, parse_mechanism(MINI))
        add = {"session": session, "actor": SYSTEM, "plan_key": "xa-ai"}
        service.open_plan(
            session, SYSTEM, code="XA", template_key="ai_plan", key="xa-ai", title="AI"
        )
        service.add_task(**add, code="T1", title="Compute", lead_body="research")
        service.add_milestone(**add, task_code="T1", code="M1", title="m", due=dt.date(2025, 1, 1))
        service.add_indicator(
            **add,
            code="I1",
            name="n",
            unit="u",
            baseline=0,
            target=1,
            direction="increase",
            task="T1",
        )
        _budget_fixture(session)
    for domain in (rules_portfolio, rules_consultation, rules_advisory):
        domain.setup(db)


def _budget_fixture(session: Any) -> None:
    """An XA agency run by the research ministry (the liaison's body) and a data call to it."""
    from sqlalchemy import select

    from stcoord.auth.permissions import SYSTEM
    from stcoord.budget.datacalls import open_data_call
    from stcoord.budget.models import Agency
    from stcoord.budget.priorities import set_priorities
    from stcoord.institutions.models import Body, Jurisdiction

    research = session.scalars(
        select(Body.id).join(Jurisdiction).where(Jurisdiction.code == "XA", Body.key == "research")
    ).one()
    session.add(
        Agency(jurisdiction_code="XA", code="RES", name="Research", names={}, body_id=research)
    )
    session.flush()
    set_priorities(
        session,
        SYSTEM,
        key="p1",
        title="t",
        classification="nitrd-pca-fy2020",
        fiscal_year=2024,
        method="direct",
        weights={"AI": 1},
    )
    open_data_call(
        session,
        SYSTEM,
        key="dc",
        jurisdiction="XA",
        fiscal_year=2024,
        classification="nitrd-pca-fy2020",
        title="t",
        currency="USD",
        agencies=["RES"],
    )


def test_every_role_gets_what_the_policy_says(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    _plan_fixture(db)
    tokens: dict[Role, str | None] = {Role.anonymous: None}
    for role in ROLES[1:]:
        bodies = [("JP", "mext"), ("XA", "research")] if role is Role.liaison else None
        tokens[role] = token_for(db, f"user-{role.value}", role, bodies)
    failures = []
    for (method, path), rule in sorted(RULES.items()):
        for role in ROLES:
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="stcoord.auth.denied"):
                response = _request(client, method, path, rule, tokens[role])
            may = rule.action is None or allowed(Actor(username="x", role=role), rule.action)
            status = response.status_code
            if status >= 500:
                failures.append(f"{role} {method} {path}: server error {status}")
            elif may and status in (401, 403) and status not in rule.expected:
                failures.append(f"{role} {method} {path}: refused ({status}) but allowed")
            elif not may:
                expected = {401, 303} if role is Role.anonymous else {403}
                if status not in expected:
                    failures.append(
                        f"{role} {method} {path}: got {status}, want {expected}: "
                        f"{response.text[:200]}"
                    )
                if not any("denied" in r.getMessage() for r in caplog.records):
                    failures.append(f"{role} {method} {path}: the refusal was not logged")
    assert not failures, "\n".join(failures)
