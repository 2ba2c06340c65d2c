"""REST API of the advisory domain: roles, versions (409), imports (422 with rows), exports."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from stcoord.advisory.models import STATUSES
from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from tests.advisory.conftest import PLAN, REPORT
from tests.helpers import token_for

API = "/api/v1/advisory"
REC = f"{API}/reports/{REPORT}/recommendations"


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_anyone_reads_reports_tracker_and_adoption(adv_db: Database, client: TestClient) -> None:
    report = client.get(f"{API}/reports/{REPORT}").json()
    assert report["body"] == "pcast" and report["recommendation_count"] == 4
    assert [r["number"] for r in report["recommendations"]] == ["1", "2", "3", "4"]
    listed = client.get(f"{API}/reports?body=US:pcast").json()
    assert listed["total"] == 1
    adoption = client.get(f"{API}/adoption").json()
    assert adoption == [
        {
            "body": "US:pcast",
            "total": 4,
            "accepted": 1,
            "partly_accepted": 1,
            "rejected": 1,
            "under_consideration": 0,
            "unanswered": 1,
            "open": 3,
            "partly_addressed": 0,
            "fully_addressed": 1,
            "adoption_rate": 0.5,
            "acceptance_rate": 0.25,
            "partly_accepted_share": 0.25,
            "rejected_share": 0.25,
            "fully_addressed_share": 0.25,
            "partly_addressed_share": 0.0,
            "closure_rate": 0.25,
        }
    ]
    one = client.get(f"{REC}/1").json()
    assert one["position"] == "accept" and one["status"] == "fully_addressed"
    assert one["benefit_amount"] == 1500000.5 and one["benefit_currency"] == "USD"
    assert one["tasks"] == [
        {"plan": PLAN, "task": "US-T01", "title": "Fund long-term fundamental AI research"}
    ]
    assert [h["to"] for h in one["history"]] == ["fully_addressed"]
    linked = client.get(f"{API}/tasks/{PLAN}/US-T01/recommendations").json()
    assert [(r["report"], r["number"]) for r in linked] == [(REPORT, "1")]
    bodies = client.get(f"{API}/bodies?jurisdiction=US").json()
    assert {b["key"] for b in bodies} >= {"pcast", "naiac", "nqiac"}
    assert not any(b["may_file"] for b in bodies)


def test_tracker_list_filters_sorts_pages_and_exports(adv_db: Database, client: TestClient) -> None:
    page = client.get(f"{API}/recommendations?status=open&sort=-number&limit=2").json()
    assert page["total"] == 3
    assert [r["number"] for r in page["items"]] == ["4", "3"]
    second = client.get(f"{API}/recommendations?status=open&sort=-number&limit=2&offset=2").json()
    assert [r["number"] for r in second["items"]] == ["2"]
    unanswered = client.get(f"{API}/recommendations?position=none").json()
    assert [r["number"] for r in unanswered["items"]] == ["4"]
    # sorting on a column whose first value sorts as "false" (index 0, amount 0) must not fail
    statuses = [
        r["status"] for r in client.get(f"{API}/recommendations?sort=status").json()["items"]
    ]
    assert len(statuses) == 4 and statuses == sorted(statuses, key=STATUSES.index)
    assert "open" in statuses and len(set(statuses)) > 1
    down = client.get(f"{API}/recommendations?sort=-status").json()["items"]
    assert [r["status"] for r in down] == statuses[::-1]
    assert client.get(f"{API}/recommendations?sort=benefit_amount").status_code == 200
    bad = client.get(f"{API}/recommendations?sort=colour")
    assert bad.status_code == 422
    csv = client.get(f"{API}/recommendations.csv?position=accept")
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("body,report,report_title,published_on,number,text")
    assert len(lines) == 2 and "US-T01" in lines[1] and "1500000.5" in lines[1]
    xlsx = client.get(f"{API}/recommendations.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.max_row == 5
    assert client.get(f"{API}/recommendations.pdf").status_code == 422
    tracker = client.get(f"{API}/tracker").json()
    assert tracker["total"] == 4
    (body,) = tracker["bodies"]
    assert body["benefits"] == {"USD": 1500000.5}
    assert [r["number"] for r in body["reports"][0]["recommendations"]] == ["1", "2", "3", "4"]


def test_office_responds_and_stale_writes_get_409(adv_db: Database, client: TestClient) -> None:
    coordinator = _auth(token_for(adv_db, "coord", Role.coordinator))
    body = {"version": 1, "position": "accept", "text": "We agree", "on_date": "2024-07-01"}
    done = client.post(f"{REC}/4/responses", json=body, headers=coordinator)
    assert done.status_code == 201, done.text
    assert done.json()["position"] == "accept" and done.json()["version"] == 2
    stale = client.post(f"{REC}/4/responses", json=body, headers=coordinator)
    assert stale.status_code == 409
    assert stale.json()["error"]["current"]["version"] == 2
    status = {
        "version": 2,
        "status": "partly_addressed",
        "on_date": "2024-08-01",
        "benefit": "Pilot audits",
        "benefit_amount": 2500,
        "benefit_currency": "USD",
    }
    moved = client.post(f"{REC}/4/status", json=status, headers=coordinator)
    assert moved.status_code == 201, moved.text
    assert moved.json()["status"] == "partly_addressed"
    link = client.post(
        f"{REC}/4/tasks", json={"plan": PLAN, "task": "US-T02", "version": 3}, headers=coordinator
    )
    assert link.status_code == 201 and link.json()["tasks"][0]["task"] == "US-T02"
    gone = client.delete(f"{REC}/4/tasks/{PLAN}/US-T02?version=4", headers=coordinator)
    assert gone.status_code == 200 and gone.json()["tasks"] == []
    bad = client.post(
        f"{REC}/4/status",
        json={**status, "version": 5, "status": "done", "on_date": "2024-09-01"},
        headers=coordinator,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["path"] == "status"


def test_advisors_file_for_their_body_only(adv_db: Database, client: TestClient) -> None:
    adviser = _auth(token_for(adv_db, "adv", Role.advisor, [("US", "pcast")]))
    outsider = _auth(token_for(adv_db, "adv2", Role.advisor, [("US", "naiac")]))
    report = {"jurisdiction": "US", "body": "pcast", "key": "pcast-2", "title": "Second"}
    assert client.post(f"{API}/reports", json=report, headers=outsider).status_code == 403
    made = client.post(f"{API}/reports", json=report, headers=adviser)
    assert made.status_code == 201 and made.json()["version"] == 1
    rec = {"number": "1", "text": "Do it", "addressed_to": ["ostp"]}
    added = client.post(f"{API}/reports/pcast-2/recommendations", json=rec, headers=adviser)
    assert added.status_code == 201
    assert client.post(f"{REC}", json={**rec, "number": "9"}, headers=outsider).status_code == 403
    respond = {"version": 1, "position": "accept", "text": "x", "on_date": "2024-07-01"}
    refused = client.post(
        f"{API}/reports/pcast-2/recommendations/1/responses", json=respond, headers=adviser
    )
    assert refused.status_code == 403
    assert client.post(f"{API}/reports", json=report).status_code == 401
    patched = client.patch(
        f"{API}/reports/pcast-2", json={"version": 1, "title": "Second, revised"}, headers=adviser
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = client.patch(
        f"{API}/reports/pcast-2", json={"version": 1, "title": "x"}, headers=adviser
    )
    assert stale.status_code == 409
    edited = client.patch(
        f"{API}/reports/pcast-2/recommendations/1",
        json={"version": 1, "text": "Do it now"},
        headers=adviser,
    )
    assert edited.status_code == 200 and edited.json()["text"] == "Do it now"


def test_import_reports_every_bad_row_and_writes_nothing(
    adv_db: Database, client: TestClient
) -> None:
    admin = _auth(token_for(adv_db, "root", Role.admin))
    bad = b"number,text\n5,\n5,dup\n"
    refused = client.post(
        f"{REC}/import", files={"file": ("r.csv", bad, "text/csv")}, headers=admin
    )
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert [(d["row"], d["column"]) for d in details] == [(2, "text"), (3, "number")]
    assert client.get(f"{API}/reports/{REPORT}").json()["recommendation_count"] == 4
    good = b"number,text,addressed_to\n5,Open data,nsf\n"
    ok = client.post(f"{REC}/import", files={"file": ("r.csv", good, "text/csv")}, headers=admin)
    assert ok.json() == {"created": ["5"], "updated": [], "unchanged": []}
    junk = client.post(
        f"{REC}/import", files={"file": ("r.txt", b"x", "text/plain")}, headers=admin
    )
    assert junk.status_code == 422
