"""Many concurrent writes against a real server finish: none waits forever for the SQLite lock.

Regression: writers used to wait for the process's write lock inside worker threads; 48
concurrent PATCHes occupied every thread while the one holding the lock needed a thread to
commit, and every request timed out.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import select

from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, Role
from stcoord.auth.service import actor_for, create_token, create_user

WRITERS = 48


def test_48_concurrent_body_edits_all_answer(base_url: str, e2e_database) -> None:  # type: ignore[no-untyped-def]
    with e2e_database.scope() as session:
        create_user(
            session, SYSTEM, username="bulk-admin", password="long-enough-pw", role=Role.admin
        )
        user = session.scalars(select(User).where(User.username == "bulk-admin")).one()
        token = create_token(session, actor_for(user), name="bulk").token
    bodies = [
        {**b, "code": code}
        for code in ("US", "JP")
        for b in httpx.get(f"{base_url}/api/v1/mechanisms/{code}/bodies?limit=100").json()["items"]
    ][:WRITERS]
    assert len(bodies) == WRITERS
    results: list[str] = []

    def edit(body: dict[str, object]) -> None:
        try:
            response = httpx.patch(
                f"{base_url}/api/v1/mechanisms/{body['code']}/bodies/{body['key']}",
                json={"version": body["version"], "note": "edited concurrently"},
                headers={"authorization": f"Bearer {token}"},
                timeout=30,
            )
            results.append(str(response.status_code))
        except httpx.HTTPError as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=edit, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(results) == Counter({"200": WRITERS})


READERS = 100


def test_100_concurrent_signed_in_reads_all_answer(base_url: str, e2e_database) -> None:  # type: ignore[no-untyped-def]
    """Regression: the connection pool (15) was smaller than the worker threads (40); signed-in
    requests look their user up on the event loop, which then blocked waiting for a connection
    while the threads holding them needed the loop to give them back: the server hung."""
    with e2e_database.scope() as session:
        create_user(
            session, SYSTEM, username="bulk-reader", password="long-enough-pw", role=Role.viewer
        )
        user = session.scalars(select(User).where(User.username == "bulk-reader")).one()
        token = create_token(session, actor_for(user), name="bulk").token
    keys = [
        b["key"]
        for b in httpx.get(f"{base_url}/api/v1/mechanisms/US/bodies?limit=100").json()["items"]
    ]
    results: list[str] = []
    start = threading.Barrier(READERS)

    def read(i: int) -> None:
        start.wait()
        try:
            response = httpx.get(
                f"{base_url}/api/v1/mechanisms/US/bodies/{keys[i % len(keys)]}?n={i}",
                headers={"authorization": f"Bearer {token}"},
                timeout=30,
            )
            results.append(str(response.status_code))
        except httpx.HTTPError as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(results) == Counter({"200": READERS})
    assert httpx.get(f"{base_url}/api/v1/mechanisms", timeout=10).status_code == 200
