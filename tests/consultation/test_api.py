"""The REST API end to end: open a consultation, take part, vote, answer, export, and the plan's
gate refusing to close the stage while a comment is unanswered."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from stcoord.auth.permissions import Role
from stcoord.consultation.schemas import COMMENT_COLUMNS
from stcoord.db.session import Database
from tests.consultation.conftest import KEY, PLAN
from tests.helpers import token_for

API = "/api/v1/consultations"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_the_consultation_api_end_to_end(cdb: Database, client: TestClient) -> None:
    office = _bearer(token_for(cdb, "office2", Role.coordinator))
    ind = _bearer(token_for(cdb, "ind2", Role.stakeholder))
    aca = _bearer(token_for(cdb, "aca2", Role.stakeholder))

    # the office opens a second consultation; a stakeholder may not
    body = {"key": "xa-talk", "plan": PLAN, "kind": "conversation", "title": "Talk"}
    assert client.post(API, json=body, headers=ind).status_code == 403
    created = client.post(API, json=body, headers=office)
    assert created.status_code == 201, created.text
    assert created.json()["stage"] == "consult"
    assert created.json()["channels"] == ["rfi"]  # the stage's channels by default
    bad = client.post(API, json={**body, "key": "x2", "kind": "poll"}, headers=office)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["path"] == "kind"

    # participants register, comment on a section, write statements and vote
    r = client.post(
        f"{API}/{KEY}/participants",
        json={"sector": "industry", "organisation": "Atlantis Robotics"},
        headers=ind,
    )
    assert r.status_code == 201 and r.json()["handle"] == "user:ind2"
    client.post(f"{API}/{KEY}/participants", json={"sector": "academia"}, headers=aca)
    r = client.post(
        f"{API}/{KEY}/comments", json={"text": "Fund compute", "section": "s1"}, headers=ind
    )
    assert r.status_code == 201
    comment_id = r.json()["id"]
    # nobody writes for someone else
    r = client.post(
        f"{API}/{KEY}/comments", json={"text": "x", "participant": "user:ind2"}, headers=aca
    )
    assert r.status_code == 403
    for text, who in (("Compute first", ind), ("Data first", aca)):
        assert (
            client.post(f"{API}/{KEY}/statements", json={"text": text}, headers=who).status_code
            == 201
        )
    assert client.put(f"{API}/{KEY}/statements/1/vote", json={"value": 1}, headers=ind).json() == {
        "statement": 1,
        "value": 1,
    }
    client.put(f"{API}/{KEY}/statements/1/vote", json={"value": 1}, headers=aca)
    client.put(f"{API}/{KEY}/statements/1/vote", json={"value": -1}, headers=aca)  # changed
    client.put(f"{API}/{KEY}/statements/2/vote", json={"value": 0}, headers=aca)
    r = client.put(f"{API}/{KEY}/statements/2/vote", json={"value": 5}, headers=aca)
    assert r.status_code == 422

    # lists: paged, sorted, filtered, exported
    page = client.get(f"{API}/{KEY}/statements?limit=1&sort=-number", headers=aca).json()
    assert (page["total"], page["limit"], [i["number"] for i in page["items"]]) == (2, 1, [2])
    mine = client.get(f"{API}/{KEY}/statements", headers=aca).json()["items"]
    assert [(s["number"], s["agree"], s["disagree"], s["pass"], s["my_vote"]) for s in mine] == [
        (1, 1, 1, 0, -1),
        (2, 0, 0, 1, 0),
    ]
    listed = client.get(f"{API}?plan={PLAN}&sort=key").json()
    assert [
        (i["key"], i["participants"], i["comments"], i["unanswered"]) for i in listed["items"]
    ] == [
        ("xa-rfi", 2, 1, 1),
        ("xa-talk", 0, 0, 0),
    ]
    exported = client.get(f"{API}/{KEY}/comments?format=csv&answered=false")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == list(COMMENT_COLUMNS)
    assert rows[1][:5] == [str(comment_id), "s1", "Compute", "ind2", "industry"]
    xlsx = client.get(f"{API}/{KEY}/statements?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert [c.value for c in sheet[2]][:3] == [1, "Compute first", "ind2"]
    assert client.get(f"{API}/{KEY}/comments?format=pdf").status_code == 422

    # the dashboard is the office's
    assert client.get(f"{API}/{KEY}/dashboard", headers=ind).status_code == 403
    dash = client.get(f"{API}/{KEY}/dashboard", headers=office).json()
    assert dash["comments"] == {"total": 1, "answered": 0, "unanswered": 1, "hidden": 0}
    assert [(h["sector"], h["participants"]) for h in dash["heard"]][1:3] == [
        ("industry", 1),
        ("academia", 1),
    ]
    assert dash["gate"] == [
        {"kind": "comments_answered", "message": "1 comment(s) have no official disposition yet"}
    ]

    # the stage cannot close until the comment is answered
    advance = client.post(
        f"/api/v1/plans/{PLAN}/advance", json={"on_date": "2024-02-15"}, headers=office
    )
    assert advance.status_code == 409
    assert advance.json()["error"]["details"] == [
        {"path": "comments_answered", "message": "1 comment(s) have no official disposition yet"}
    ]
    r = client.put(
        f"{API}/{KEY}/comments/{comment_id}/disposition",
        json={"outcome": "partly_adopted", "reason": "Section 1 now names compute"},
        headers=office,
    )
    assert r.json() == {
        "comment": comment_id,
        "outcome": "partly_adopted",
        "reason": "Section 1 now names compute",
        "version": 1,
    }
    stale = client.put(
        f"{API}/{KEY}/comments/{comment_id}/disposition",
        json={"outcome": "adopted", "reason": "r", "expected_version": 0},
        headers=office,
    )
    assert stale.status_code == 409 and stale.json()["error"]["current"]["version"] == 1
    advance = client.post(
        f"/api/v1/plans/{PLAN}/advance", json={"on_date": "2024-02-15"}, headers=office
    )
    assert advance.status_code == 200, advance.text

    # moderation, audited; hidden statements leave the public list
    r = client.post(
        f"{API}/{KEY}/moderation",
        json={"target": "statement", "id": 2, "hidden": True, "reason": "off topic"},
        headers=office,
    )
    assert r.json() == {"target": "statement", "id": 2, "hidden": True, "reason": "off topic"}
    assert [s["number"] for s in client.get(f"{API}/{KEY}/statements").json()["items"]] == [1]
    audit = client.get("/api/v1/audit?action=statement.hide", headers=office).json()
    assert audit["items"][0]["object_key"] == f"{KEY}/statement/2"


def test_importing_a_polis_export_over_the_api(cdb: Database, client: TestClient) -> None:
    office = _bearer(token_for(cdb, "office2", Role.coordinator))
    comments = (
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1,,0,0,1,0,1,Open data\n2,,1,1,0,1,-1,Rude words\n"
    )
    votes = "timestamp,datetime,comment-id,voter-id,vote\n1,,0,0,1\n2,,0,1,-1\n3,,1,1,1\n4,,0,1,1\n"
    files = [
        ("files", ("comments.csv", comments.encode(), "text/csv")),
        ("files", ("votes.csv", votes.encode(), "text/csv")),
    ]
    r = client.post(f"{API}/{KEY}/import", files=files, headers=office)
    assert r.json() == {
        "consultation": KEY,
        "participants": 2,
        "statements": 2,
        "hidden": 1,
        "votes": 3,  # participant 1 changed their vote on comment 0: the last one counts
    }
    again = client.post(f"{API}/{KEY}/import", files=files, headers=office)
    assert again.status_code == 409
    bad = client.post(
        f"{API}/{KEY}/import",
        files=[
            (
                "files",
                (
                    "votes.csv",
                    b"timestamp,datetime,comment-id,voter-id,vote\n1,,0,0,7\n",
                    "text/csv",
                ),
            )
        ],
        headers=office,
    )
    assert bad.status_code == 422
    detail = bad.json()["error"]["details"][0]
    assert detail["path"].endswith("votes.csv") or "votes.csv" in str(detail)
