"""The mechanism registry's REST API on both databases."""

from fastapi.testclient import TestClient

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from tests.conftest import fixture_text
from tests.helpers import login, make_user, token_for

MINI = fixture_text("mini.yaml")
YAML = {"content-type": "application/yaml"}


def load_mini(client: TestClient, db: Database) -> dict[str, str]:
    auth = {"authorization": f"Bearer {token_for(db, 'coord', Role.coordinator)}"}
    response = client.post("/api/v1/mechanisms", content=MINI, headers={**YAML, **auth})
    assert response.status_code == 200, response.text
    return auth


def test_list_mechanisms_with_counts_and_paging(client: TestClient) -> None:
    body = client.get("/api/v1/mechanisms").json()
    codes = [item["code"] for item in body["items"]]
    assert codes == sorted(codes) and {"US", "JP", "CN"} <= set(codes)
    assert body["total"] == len(codes)
    jp = next(i for i in body["items"] if i["code"] == "JP")
    assert jp["bodies"] > 10 and jp["seats"] > 5 and jp["names"]["ja"]
    page = client.get("/api/v1/mechanisms?limit=1&offset=1&sort=-code").json()
    assert [i["code"] for i in page["items"]] == [sorted(codes, reverse=True)[1]]
    assert client.get("/api/v1/mechanisms?sort=colour").status_code == 422
    assert client.get("/api/v1/mechanisms?limit=0").json()["error"]["code"] == "validation_failed"


def test_load_requires_a_writer_and_reports_problems_without_writing(
    client: TestClient, db: Database
) -> None:
    anonymous = client.post("/api/v1/mechanisms", content=MINI, headers=YAML)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    viewer = {**YAML, "authorization": f"Bearer {token_for(db, 'v', Role.viewer)}"}
    assert client.post("/api/v1/mechanisms", content=MINI, headers=viewer).status_code == 403

    headers = {**YAML, "authorization": f"Bearer {token_for(db, 'c', Role.coordinator)}"}
    bad = MINI.replace("parent: research", "parent: nowhere").replace("level: advisory", "level: 7")
    response = client.post(
        "/api/v1/mechanisms", content=bad, headers={**headers, "x-filename": "xa.yaml"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_file"
    assert {(d["file"], d["path"]) for d in error["details"]} == {("xa.yaml", "bodies[2].level")}
    assert client.get("/api/v1/mechanisms/XA").status_code == 404

    created = client.post("/api/v1/mechanisms", content=MINI, headers=headers).json()
    assert (created["created"], created["changed"]) == (True, True)
    again = client.post("/api/v1/mechanisms", content=MINI, headers=headers).json()
    assert (again["created"], again["changed"]) == (False, False)


def test_mechanism_export_and_body_detail(client: TestClient, db: Database) -> None:
    load_mini(client, db)
    mechanism = client.get("/api/v1/mechanisms/xa").json()
    assert mechanism["jurisdiction"]["code"] == "XA"
    assert mechanism["relations"][0] == {
        **mechanism["relations"][0],
        "from": "council",
        "to": "head",
    }
    export = client.get("/api/v1/mechanisms/XA/export")
    assert export.headers["content-type"].startswith("application/yaml")
    assert "format: stcoord-mechanism/1" in export.text
    detail = client.get("/api/v1/mechanisms/XA/bodies/council").json()
    assert detail["body"]["seats"][1]["holder_body"] == "finance"
    assert [r["to_body"] for r in detail["outgoing"]] == ["head"]
    assert [r["from_body"] for r in detail["incoming"]] == ["ai_panel"]
    assert detail["children"] == ["ai_panel"]
    assert client.get("/api/v1/mechanisms/XA/bodies/nope").status_code == 404


def test_body_list_filters(client: TestClient, db: Database) -> None:
    load_mini(client, db)
    page = client.get("/api/v1/mechanisms/XA/bodies?level=ministerial&sort=-key").json()
    assert [b["key"] for b in page["items"]] == ["research", "finance"]
    assert page["total"] == 2


def test_patch_body_with_versions_and_scopes(client: TestClient, db: Database) -> None:
    headers = load_mini(client, db)
    ok = client.patch(
        "/api/v1/mechanisms/XA/bodies/council",
        json={"version": 1, "description": "The top"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(
        "/api/v1/mechanisms/XA/bodies/council",
        json={"version": 1, "description": "Lost?"},
        headers=headers,
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["current"]["description"] == "The top"
    unknown = client.patch(
        "/api/v1/mechanisms/XA/bodies/council",
        json={"version": 2, "level": "head"},
        headers=headers,
    )
    assert unknown.status_code == 422

    liaison = {"authorization": f"Bearer {token_for(db, 'l', Role.liaison, [('XA', 'finance')])}"}
    mine = client.patch(
        "/api/v1/mechanisms/XA/bodies/finance",
        json={"version": 1, "note": "checked"},
        headers=liaison,
    )
    assert mine.status_code == 200
    theirs = client.patch(
        "/api/v1/mechanisms/XA/bodies/council", json={"version": 2, "note": "x"}, headers=liaison
    )
    assert theirs.status_code == 403


def test_cookie_sessions_need_the_csrf_header_for_writes(client: TestClient, db: Database) -> None:
    load_mini(client, db)
    make_user(db, "alice", Role.coordinator)
    csrf = login(client, "alice")
    body = {"version": 1, "description": "via cookie"}
    missing = client.patch("/api/v1/mechanisms/XA/bodies/council", json=body)
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf"
    ok = client.patch(
        "/api/v1/mechanisms/XA/bodies/council", json=body, headers={"x-csrf-token": csrf}
    )
    assert ok.status_code == 200


def test_diagnosis_and_comparison(client: TestClient) -> None:
    diagnosis = client.get("/api/v1/mechanisms/JP/diagnosis?field=ai").json()
    assert [f["finding"] for f in diagnosis["findings"]] == [1, 2, 3, 4]
    assert all(f["verdict"] in ("met", "partial", "not_met") for f in diagnosis["findings"])
    missing = client.get("/api/v1/mechanisms/JP/diagnosis")
    assert missing.status_code == 422
    compared = client.get("/api/v1/compare?codes=US,JP&codes=CN&field=ai").json()
    assert compared["codes"] == ["US", "JP", "CN"]
    assert set(compared["rows"][0]) == {"finding", "title", "US", "JP", "CN"}
    assert client.get("/api/v1/compare?codes=US&codes=ZZ&field=ai").status_code == 404


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/mechanisms/{code}/diagnosis" in paths
    assert "/api/v1/compare" in paths
