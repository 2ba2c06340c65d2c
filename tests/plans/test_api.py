"""The plans REST API on both databases, driven end to end over HTTP."""

from typing import Any

from fastapi.testclient import TestClient

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from tests.conftest import fixture_text
from tests.helpers import token_for
from tests.plans.conftest import QUORATE


def setup(client: TestClient, db: Database) -> dict[str, str]:
    auth = {"authorization": f"Bearer {token_for(db, 'coord', Role.coordinator)}"}
    client.post(
        "/api/v1/mechanisms",
        content=fixture_text("mini.yaml"),
        headers={**auth, "content-type": "application/yaml"},
    )
    opened = client.post(
        "/api/v1/plans",
        headers=auth,
        json={
            "jurisdiction": "XA",
            "template": "ai_plan",
            "key": "xa-ai",
            "title": "AI plan",
            "lead_body": "council",
            "opened_on": "2024-01-10",
        },
    )
    assert opened.status_code == 201, opened.text
    return auth


def post(client: TestClient, auth: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/plans/xa-ai{path}", json=body, headers=auth)


def test_walk_a_plan_through_its_procedure(client: TestClient, db: Database) -> None:
    auth = setup(client, db)
    blocked = post(client, auth, "/advance", {"on_date": "2024-02-01"})
    assert blocked.status_code == 409
    assert blocked.json()["error"]["code"] == "gate_blocked"
    assert blocked.json()["error"]["details"] == [
        {"path": "channels_heard", "message": "no input yet from industry, academia"}
    ]
    for channel in ("industry", "academia"):
        assert (
            post(client, auth, "/inputs", {"channel": channel, "summary": "x"}).status_code == 201
        )
    assert (
        post(client, auth, "/advance", {"on_date": "2024-02-01"}).json()["current_stage"] == "draft"
    )
    post(client, auth, "/advance", {"on_date": "2024-03-01"})
    refused = post(
        client,
        auth,
        "/decisions",
        {"body": "finance", "on_date": "2024-03-05", "attendees": QUORATE, "consensus": True},
    )
    assert refused.status_code == 422
    assert "holds no power to decide" in str(refused.json()["error"]["details"])
    ok = post(
        client,
        auth,
        "/decisions",
        {"body": "council", "on_date": "2024-03-05", "attendees": QUORATE, "consensus": True},
    )
    assert ok.status_code == 201
    done = post(client, auth, "/advance", {"on_date": "2024-03-06"}).json()
    assert done["status"] == "completed"
    assert [s["actual_end"] for s in done["stages"]] == ["2024-02-01", "2024-03-01", "2024-03-06"]
    timeline = client.get("/api/v1/plans/xa-ai/timeline").json()
    assert [e["kind"] for e in timeline][-2:] == ["decision", "advanced"]
    assert {e["actor"] for e in timeline} == {"coord"}


def test_content_and_status_over_the_api(client: TestClient, db: Database) -> None:
    auth = setup(client, db)
    assert (
        post(client, auth, "/goals", {"code": "G1", "kind": "goal", "title": "AI"}).status_code
        == 201
    )
    assert (
        post(
            client,
            auth,
            "/tasks",
            {"code": "T1", "title": "Compute", "goal": "G1", "lead_body": "research"},
        ).status_code
        == 201
    )
    post(
        client, auth, "/tasks/T1/milestones", {"code": "M1", "title": "Tender", "due": "2024-03-01"}
    )
    post(client, auth, "/tasks/T1/milestones/M1/complete", {"completed_on": "2024-02-27"})
    status = client.get("/api/v1/plans/xa-ai/status?today=2024-04-01").json()
    assert status["current_stage"] == "consult"
    assert status["unmet"][0]["kind"] == "channels_heard"
    assert [(g["code"], g["progress"], g["status"]) for g in status["goals"]] == [
        ("G1", 1.0, "done")
    ]
    task = client.get("/api/v1/plans/xa-ai/tasks/T1").json()
    stale = client.patch(
        "/api/v1/plans/xa-ai/tasks/T1",
        headers=auth,
        json={"version": task["version"] + 5, "title": "x"},
    )
    assert stale.status_code == 409 and stale.json()["error"]["current"]["title"] == "Compute"
    fresh = client.patch(
        "/api/v1/plans/xa-ai/tasks/T1",
        headers=auth,
        json={"version": task["version"], "title": "Exascale"},
    )
    assert fresh.json()["title"] == "Exascale"
    post(
        client,
        auth,
        "/drafts",
        {"title": "v1", "sections": [{"key": "a", "heading": "A", "text": "one"}]},
    )
    post(
        client,
        auth,
        "/drafts",
        {"title": "v2", "sections": [{"key": "a", "heading": "A", "text": "one two"}]},
    )
    diff = client.get("/api/v1/plans/xa-ai/drafts/diff?old=1&new=2").json()
    assert diff["sections"][0]["change"] == "changed"
    assert client.get("/api/v1/plans/xa-ai/drafts/3").status_code == 404
    alignment = client.get("/api/v1/plans/xa-ai/alignment").json()
    assert {i["problem"] for i in alignment["issues"]} >= {"no indicator", "no budget link"}


def test_sheets_round_trip_and_bad_rows(client: TestClient, db: Database) -> None:
    auth = setup(client, db)
    post(client, auth, "/goals", {"code": "G1", "kind": "goal", "title": "AI"})
    sheet = (
        "code,title,goal,lead_body,supporting,weight,budget_link,description\n"
        "T1,Compute,G1,research,agency,2,AI-01,\nT2,People,G1,finance,,1,,\n"
    )
    ok = client.post(
        "/api/v1/plans/xa-ai/sheets/tasks",
        headers=auth,
        files={"file": ("tasks.csv", sheet.encode(), "text/csv")},
    )
    assert ok.status_code == 200 and ok.json() == {"sheet": "tasks", "created": 2, "updated": 0}
    exported = client.get("/api/v1/plans/xa-ai/sheets/tasks.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "T1,Compute,G1,research,agency,2.0,AI-01," in exported.text
    xlsx = client.get("/api/v1/plans/xa-ai/sheets/tasks.xlsx")
    assert xlsx.content[:2] == b"PK"
    again = client.post(
        "/api/v1/plans/xa-ai/sheets/tasks",
        headers=auth,
        files={"file": ("tasks.xlsx", xlsx.content, "application/octet-stream")},
    )
    assert again.json() == {"sheet": "tasks", "created": 0, "updated": 2}
    bad = (
        "code,title,goal,lead_body,supporting,weight,budget_link,description\n"
        "T3,New,G9,nobody,,-1,,\nT3,Dup,,,,,,\n,No code,,,,x,,\n"
    )
    refused = client.post(
        "/api/v1/plans/xa-ai/sheets/tasks",
        headers=auth,
        files={"file": ("tasks.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    details = [(d["row"], d["column"], d["message"]) for d in refused.json()["error"]["details"]]
    assert details == [
        (2, "goal", "unknown goal 'G9'"),
        (2, "lead_body", "unknown body 'nobody'"),
        (2, "weight", "must not be negative"),
        (4, "code", "is required"),
        (4, "weight", "not a number: 'x'"),
        (3, "code", "duplicate of row 2"),
    ]
    assert len(client.get("/api/v1/plans/xa-ai/tasks").json()["items"]) == 2
    wrong = client.post(
        "/api/v1/plans/xa-ai/sheets/tasks",
        headers=auth,
        files={"file": ("tasks.txt", b"x", "text/plain")},
    )
    assert wrong.status_code == 422


def test_liaison_reports_progress_only_on_own_tasks(client: TestClient, db: Database) -> None:
    auth = setup(client, db)
    post(client, auth, "/tasks", {"code": "T1", "title": "Compute", "lead_body": "research"})
    post(client, auth, "/tasks", {"code": "T2", "title": "Money", "lead_body": "finance"})
    liaison = {"authorization": f"Bearer {token_for(db, 'li', Role.liaison, [('XA', 'research')])}"}
    mine = post(
        client, liaison, "/tasks/T1/progress", {"period": "2024-Q1", "percent_complete": 30}
    )
    assert mine.status_code == 201
    theirs = post(
        client, liaison, "/tasks/T2/progress", {"period": "2024-Q1", "percent_complete": 30}
    )
    assert theirs.status_code == 403
    assert post(client, liaison, "/advance", {}).status_code == 403
