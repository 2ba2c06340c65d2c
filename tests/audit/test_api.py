"""Reading the audit trail: coordinators see everything, others only their own changes."""

from fastapi.testclient import TestClient

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from tests.helpers import token_for


def test_audit_trail_is_scoped_and_filterable(client: TestClient, db: Database) -> None:
    coord = {"authorization": f"Bearer {token_for(db, 'coord', Role.coordinator)}"}
    liaison = {"authorization": f"Bearer {token_for(db, 'li', Role.liaison, [('JP', 'mext')])}"}
    patched = client.patch(
        "/api/v1/mechanisms/JP/bodies/mext",
        json={"version": 1, "note": "reviewed"},
        headers=liaison,
    )
    assert patched.status_code == 200, patched.text

    everything = client.get("/api/v1/audit?limit=500", headers=coord).json()
    actions = {r["action"] for r in everything["items"]}
    assert {"mechanism.load", "user.create", "token.create", "body.update"} <= actions

    own = client.get("/api/v1/audit", headers=liaison).json()
    assert {r["actor_name"] for r in own["items"]} == {"li"}
    assert {r["action"] for r in own["items"]} == {"body.update", "token.create"}

    updates = client.get("/api/v1/audit?action=body.update&object_key=JP/mext", headers=coord)
    record = updates.json()["items"][0]
    assert (record["before"], record["after"]) == (
        {"note": None, "version": 1},
        {"note": "reviewed", "version": 2},
    )
    assert record["request_id"]
    assert client.get("/api/v1/audit").status_code == 401
