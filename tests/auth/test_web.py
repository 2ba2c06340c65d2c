"""Login, logout, sessions, CSRF and API tokens over HTTP."""

from fastapi.testclient import TestClient

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from tests.helpers import PASSWORD, csrf_from, login, make_user, token_for


def test_login_sets_a_session_and_logout_clears_it(client: TestClient, db: Database) -> None:
    make_user(db, "ana", Role.coordinator)
    assert client.get("/api/v1/me").json()["authenticated"] is False
    csrf = login(client, "ana")
    me = client.get("/api/v1/me").json()
    assert (me["username"], me["role"], me["authenticated"]) == ("ana", "coordinator", True)
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["authenticated"] is False


def test_bad_credentials_and_missing_csrf_are_refused(client: TestClient, db: Database) -> None:
    make_user(db, "ana", Role.viewer)
    token = csrf_from(client.get("/login").text)
    wrong = client.post(
        "/login", data={"username": "ana", "password": "nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    no_csrf = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert no_csrf.status_code == 403
    assert client.get("/api/v1/me").json()["authenticated"] is False


def test_login_never_redirects_off_site(client: TestClient, db: Database) -> None:
    make_user(db, "ana", Role.viewer)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_tokens_over_the_api(client: TestClient, db: Database) -> None:
    token = token_for(db, "ana", Role.coordinator)
    auth = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=auth).json()["username"] == "ana"
    issued = client.post("/api/v1/tokens", json={"name": "ci"}, headers=auth).json()
    second = {"authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/me", headers=second).json()["username"] == "ana"
    assert client.delete(f"/api/v1/tokens/{issued['id']}", headers=auth).status_code == 204
    revoked = client.get("/api/v1/me", headers=second)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "unauthenticated"


def test_admin_creates_users_over_the_api(client: TestClient, db: Database) -> None:
    auth = {"authorization": f"Bearer {token_for(db, 'root', Role.admin)}"}
    created = client.post(
        "/api/v1/users",
        headers=auth,
        json={"username": "bob", "password": "long-enough-pw", "role": "viewer"},
    )
    assert created.status_code == 201 and created.json()["role"] == "viewer"
    duplicate = client.post(
        "/api/v1/users",
        headers=auth,
        json={"username": "bob", "password": "long-enough-pw", "role": "viewer"},
    )
    assert duplicate.status_code == 409
    bad = client.post(
        "/api/v1/users", headers=auth, json={"username": "eve", "password": "x", "role": "wizard"}
    )
    assert bad.status_code == 422
    assert "role" in str(bad.json()["error"]["details"])
    names = [u["username"] for u in client.get("/api/v1/users", headers=auth).json()]
    assert names == sorted(names) and {"bob", "root"} <= set(names)
