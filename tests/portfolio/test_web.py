"""The portfolio pages: import (and a refused file), a screen run with its job page, the pair
list, the pair page with highlighted passages and the verdict form, precision, checks, landscape."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from stcoord.portfolio import jobs
from stcoord.portfolio.models import Project
from tests.helpers import login, make_user


def test_pages_from_import_to_verdict(client: TestClient, db: Database, nsf_slice: Path) -> None:
    make_user(db, "office", Role.coordinator)
    token = login(client, "office")
    page = client.get("/portfolio")
    assert page.status_code == 200 and 'action="/portfolio/import"' in page.text
    refused = client.post(
        "/portfolio/import",
        data={"csrf_token": token, "mapping": "nsf-awards"},
        files={"file": ("bad.jsonl", b'{"award_id": "9", "title": "t", "effective_date": "x"}\n')},
    )
    assert refused.status_code == 422 and "row 1, effective_date" in refused.text
    with db.scope(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0
    imported = client.post(
        "/portfolio/import",
        data={"csrf_token": token},
        files={"file": (nsf_slice.name, nsf_slice.read_bytes())},
        follow_redirects=False,
    )
    assert imported.status_code == 303
    assert "<code>nsf</code>" in client.get("/portfolio").text

    started = client.post(
        "/portfolio/runs",
        data={"csrf_token": token, "threshold": "0.8", "representation": "word"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    run_id = int(started.headers["location"].rsplit("/", 1)[1])
    jobs.wait(run_id, timeout=300)
    run_page = client.get(f"/portfolio/runs/{run_id}")
    assert "hx-get" not in run_page.text  # finished: the page stops polling
    assert 'role="progressbar"' in run_page.text and 'aria-valuenow="100"' in run_page.text
    fragment = client.get(f"/portfolio/runs/{run_id}/progress")
    assert fragment.text.strip().startswith('<section id="progress"')

    pairs = client.get("/portfolio/pairs", params={"run": run_id, "verdict": "none"})
    ids = re.findall(r'href="/portfolio/pairs/(\d+)"', pairs.text)
    assert ids
    csv_export = client.get("/portfolio/pairs.csv", params={"run": run_id})
    assert csv_export.headers["content-type"].startswith("text/csv")
    xlsx = client.get("/portfolio/pairs.xlsx", params={"run": run_id})
    assert xlsx.content[:2] == b"PK"

    pair = client.get(f"/portfolio/pairs/{ids[0]}")
    assert pair.status_code == 200 and "<mark" in pair.text and 'name="label"' in pair.text
    version = re.search(r'name="version" value="(\d+)"', pair.text)
    assert version
    saved = client.post(
        f"/portfolio/pairs/{ids[0]}/verdict",
        data={
            "csrf_token": token,
            "label": "overlap",
            "comment": "same aims",
            "version": version.group(1),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    stale = client.post(
        f"/portfolio/pairs/{ids[0]}/verdict",
        data={"csrf_token": token, "label": "unrelated", "version": version.group(1)},
    )
    assert stale.status_code == 409 and "Nothing was saved" in stale.text
    assert "same aims" in client.get(f"/portfolio/pairs/{ids[0]}").text
    precision = client.get("/portfolio/precision")
    assert "100.0%" in precision.text
    assert client.get("/portfolio/checks", params={"run": run_id}).status_code == 200
    assert 'href="/portfolio"' in client.get("/").text  # the nav link


def test_pages_in_chinese_and_japanese(client: TestClient, db: Database) -> None:
    make_user(db, "office", Role.coordinator)
    login(client, "office")
    zh = client.get("/portfolio/runs", params={"lang": "zh"}).text
    ja = client.get("/portfolio/runs", params={"lang": "ja"}).text
    assert "筛查" in zh and "スクリーニング" in ja
