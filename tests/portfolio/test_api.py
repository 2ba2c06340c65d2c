"""The portfolio REST API: import, a background screen run, pairs with filters and exports,
the pair with its passages, verdicts (and stale ones), precision and researcher checks."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fastapi.testclient import TestClient

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from stcoord.portfolio import jobs
from stcoord.portfolio.imports import records_of
from stcoord.portfolio.screening import screen_records
from tests.helpers import token_for
from tests.portfolio.conftest import TWO_AGENCY_MAPPING


def _headers(db: Database, role: Role = Role.coordinator) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(db, f'api-{role.value}', role)}"}


def test_import_screen_pairs_and_verdicts_through_the_api(
    client: TestClient, db: Database, nsf_slice: Path
) -> None:
    h = _headers(db)
    bad = client.post(
        "/api/v1/portfolio/imports",
        files={"file": ("bad.jsonl", b'{"award_id": "1", "title": ""}\n', "text/plain")},
        data={"mapping": "nsf-awards"},
        headers=h,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["row"] == 1
    done = client.post(
        "/api/v1/portfolio/imports",
        files={"file": (nsf_slice.name, nsf_slice.read_bytes(), "text/plain")},
        headers=h,
    )
    assert done.status_code == 200, done.text
    assert done.json()["mapping"] == "nsf-awards"
    started = client.post(
        "/api/v1/portfolio/runs", json={"threshold": 0.8, "chunk_size": 200}, headers=h
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    jobs.wait(run_id, timeout=300)
    run = client.get(f"/api/v1/portfolio/runs/{run_id}", headers=h).json()
    assert (run["status"], run["chunks_done"], run["chunks_total"]) == ("done", 2, 2)

    canonical = client.get(f"/api/v1/portfolio/runs/{run_id}/canonical", headers=h).json()
    with nsf_slice.open("rb") as stream:
        assert canonical == screen_records(records_of(stream, nsf_slice.name), threshold=0.8)

    page = client.get(
        "/api/v1/portfolio/pairs", params={"run": run_id, "limit": 5, "offset": 5}, headers=h
    ).json()
    assert page["total"] == run["pair_count"] and len(page["items"]) == 5
    scores = [p["score"] for p in page["items"]]
    assert scores == sorted(scores, reverse=True)
    low = client.get(
        "/api/v1/portfolio/pairs", params={"run": run_id, "sort": "score", "limit": 1}, headers=h
    ).json()["items"][0]
    assert low["score"] == min(p["score"] for p in canonical)
    assert (
        client.get("/api/v1/portfolio/pairs", params={"sort": "nope"}, headers=h).status_code == 422
    )
    exported = client.get(
        "/api/v1/portfolio/pairs", params={"run": run_id, "format": "csv"}, headers=h
    )
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["pair", "run", "score"] and len(rows) == run["pair_count"] + 1

    pair_id = page["items"][0]["id"]
    detail = client.get(f"/api/v1/portfolio/pairs/{pair_id}", headers=h).json()
    assert detail["passages"] and detail["left"]["external_id"] != detail["right"]["external_id"]
    first = detail["passages"][0]
    assert detail["left_text"][first["left_start"] : first["left_end"]].lower() == (
        detail["right_text"][first["right_start"] : first["right_end"]].lower()
    )
    ok = client.post(
        f"/api/v1/portfolio/pairs/{pair_id}/verdict",
        json={"label": "duplication", "comment": "one project", "version": detail["version"]},
        headers=h,
    )
    assert ok.status_code == 200 and ok.json()["version"] == detail["version"] + 1
    stale = client.post(
        f"/api/v1/portfolio/pairs/{pair_id}/verdict",
        json={"label": "unrelated", "version": detail["version"]},
        headers=h,
    )
    assert stale.status_code == 409 and stale.json()["error"]["current"]["verdict"] == "duplication"
    wrong = client.post(
        f"/api/v1/portfolio/pairs/{pair_id}/verdict", json={"label": "twins"}, headers=h
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "validation_failed"
    assert client.get("/api/v1/portfolio/pairs/999999", headers=h).status_code == 404
    precision = client.get("/api/v1/portfolio/precision", headers=h).json()
    assert precision["total"]["adjudicated"] == 1 and precision["total"]["precision"] == 1.0
    viewer = _headers(db, Role.viewer)
    assert client.get("/api/v1/portfolio/pairs", headers=viewer).status_code == 200
    refused = client.post(
        f"/api/v1/portfolio/pairs/{pair_id}/verdict", json={"label": "overlap"}, headers=viewer
    )
    assert refused.status_code == 403


def test_researcher_checks_and_threshold_setting(
    client: TestClient, db: Database, two_agency_file: tuple[Path, Path]
) -> None:
    h = _headers(db)
    data, _ = two_agency_file
    done = client.post(
        "/api/v1/portfolio/imports",
        files={
            "file": (data.name, data.read_bytes(), "text/plain"),
            "mapping_file": ("m.yaml", TWO_AGENCY_MAPPING.encode(), "text/yaml"),
        },
        headers=h,
    )
    assert done.status_code == 200, done.text
    run_id = client.post("/api/v1/portfolio/runs", json={"threshold": 0.5}, headers=h).json()["id"]
    jobs.wait(run_id, timeout=300)
    twice = client.get(
        "/api/v1/portfolio/checks/funded-twice", params={"run": run_id}, headers=h
    ).json()
    assert [i["investigator"] for i in twice["items"]] == ["Ana Lima"]
    put = client.put(
        "/api/v1/portfolio/settings/concurrent-threshold",
        json={"amount": "800000", "currency": "USD"},
        headers=h,
    )
    assert put.json() == {"amount": "800000", "currency": "USD", "version": 1}
    heavy = client.get("/api/v1/portfolio/checks/concurrent", headers=h).json()
    assert [(i["investigator"], i["peak"]) for i in heavy["items"]] == [
        ("Ben Ode", "2000000.00"),
        ("Ana Lima", "900000.00"),
    ]
    landscape = client.get("/api/v1/portfolio/landscape", params={"n_topics": 3}, headers=h).json()
    assert landscape["projects"] == 4 and len(landscape["topics"]) == 3
    assert json.dumps(landscape)  # plain JSON
