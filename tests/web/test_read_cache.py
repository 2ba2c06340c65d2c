"""Rendered mechanism pages and API reads are reused until the next audited change."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stcoord.auth.permissions import SYSTEM, Role
from stcoord.config import Settings
from stcoord.db.session import Database
from stcoord.institutions import service
from stcoord.web.read_cache import ReadCache
from tests.helpers import token_for


def cache_of(client: TestClient) -> ReadCache:
    cache = client.app.state.read_cache  # type: ignore[attr-defined]
    assert isinstance(cache, ReadCache)
    return cache


def test_a_second_read_is_served_from_the_cache_with_an_etag(client: TestClient) -> None:
    cache = cache_of(client)
    first = client.get("/mechanisms/JP")
    hits = cache.hits
    second = client.get("/mechanisms/JP")
    assert cache.hits == hits + 1
    assert second.text == first.text and second.headers["etag"] == first.headers["etag"]
    assert second.headers["content-type"] == first.headers["content-type"]
    unchanged = client.get("/mechanisms/JP", headers={"if-none-match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""


def test_an_audited_change_from_anywhere_invalidates_the_page(
    client: TestClient, db: Database
) -> None:
    before = client.get("/api/v1/mechanisms/JP/bodies/mext").json()
    client.get("/mechanisms/JP/bodies/mext")
    # Another process (here: another session, as the CLI would) edits the body.
    with db.scope() as session:
        service.update_body(
            session,
            SYSTEM,
            code="JP",
            key="mext",
            expected_version=before["version"],
            changes={"description": "Edited elsewhere"},
        )
    after = client.get("/api/v1/mechanisms/JP/bodies/mext").json()
    assert after["version"] == before["version"] + 1
    assert after["body"]["description"] == "Edited elsewhere"
    assert "Edited elsewhere" in client.get("/mechanisms/JP/bodies/mext").text


def test_an_api_write_is_seen_by_the_next_read(client: TestClient, db: Database) -> None:
    auth = {"authorization": f"Bearer {token_for(db, 'coord', Role.coordinator)}"}
    read = client.get("/api/v1/mechanisms/JP/bodies?limit=5").json()
    key = read["items"][0]["key"]
    body = client.get(f"/api/v1/mechanisms/JP/bodies/{key}").json()
    edited = client.patch(
        f"/api/v1/mechanisms/JP/bodies/{key}",
        json={"version": body["version"], "short_name": "Renamed"},
        headers=auth,
    )
    assert edited.status_code == 200, edited.text
    again = client.get("/api/v1/mechanisms/JP/bodies?limit=5").json()
    assert next(i for i in again["items"] if i["key"] == key)["short_name"] == "Renamed"


def test_language_and_actor_are_part_of_the_key(client: TestClient, db: Database) -> None:
    english = client.get("/mechanisms/JP?lang=en").text
    japanese = client.get("/mechanisms/JP?lang=ja").text
    assert '<html lang="en">' in english and '<html lang="ja">' in japanese
    # The cookie set by ?lang=ja is replayed by a cached copy too.
    assert client.get("/mechanisms/JP?lang=ja").cookies.get("lang") == "ja"
    token = token_for(db, "viewer", Role.viewer)
    signed_in = client.get("/?lang=en", headers={"authorization": f"Bearer {token}"}).text
    anonymous = client.get("/?lang=en").text
    assert "viewer" in signed_in and "viewer" not in anonymous


def test_uncached_when_the_setting_is_off(db: Database, settings: Settings) -> None:
    from stcoord.web.app import create_app

    app = create_app(settings.model_copy(update={"read_cache": False}), database=db)
    assert app.state.read_cache is None
    with TestClient(app) as client:
        response = client.get("/api/v1/mechanisms")
        assert response.status_code == 200 and "etag" not in response.headers


def test_the_cache_is_bounded() -> None:
    cache = ReadCache(size=2)
    from stcoord.web.read_cache import _Entry

    entry = _Entry(stamp=1, etag="e", status_code=200, body=b"x", headers=())
    for key in ("a", "b", "c"):
        cache.put((key,), entry)
    assert cache.get(("a",), 1) is None and cache.get(("c",), 1) is entry
    assert cache.get(("c",), 2) is None  # a newer stamp makes it stale
