"""Topic landscape: topics with agencies, Herfindahl and money; money by the US mechanism's
strategic fields against equal weights or a budget priority set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stcoord.auth.permissions import SYSTEM, Role
from stcoord.budget.priorities import set_priorities
from stcoord.db.session import Database
from stcoord.portfolio import landscape
from stcoord.portfolio.pages import landscape_charts
from tests.helpers import login, make_user
from tests.portfolio.conftest import TWO_AGENCY_MAPPING, import_file

AI = (
    "Artificial intelligence research on machine learning models that learn from data, "
    "with neural networks trained for language and vision and tested for robustness."
)
QUANTUM = (
    "Quantum information science with superconducting qubits: error correction codes and "
    "quantum sensing experiments in a dilution refrigerator."
)


@pytest.fixture
def portfolio(db: Database, tmp_path: Path) -> Database:
    rows = [
        {
            "id": "A1",
            "title": "Artificial intelligence models",
            "abstract": AI,
            "agency": "DOE",
            "amount": 500,
            "people": [],
        },
        {
            "id": "A2",
            "title": "Artificial intelligence learning",
            "abstract": AI + " Again.",
            "agency": "NSF",
            "amount": 200,
            "people": [],
        },
        {
            "id": "Q1",
            "title": "Quantum information with qubits",
            "abstract": QUANTUM,
            "agency": "DOE",
            "amount": 150,
            "people": [],
        },
        {
            "id": "A3",
            "title": "Machine learning for vision",
            "abstract": AI.replace("language", "speech"),
            "agency": "NSF",
            "amount": 100,
            "people": [],
        },
        {
            "id": "Q2",
            "title": "Qubit arrays",
            "abstract": QUANTUM.replace("sensing", "memory"),
            "agency": "DOE",
            "amount": 50,
            "people": [],
        },
    ]
    data = tmp_path / "fields.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(TWO_AGENCY_MAPPING)
    import_file(db, data, mapping=mapping)
    return db


def test_topics_with_agencies_concentration_and_equal_weight_gaps(portfolio: Database) -> None:
    with portfolio.scope(write=False) as session:
        view = landscape.build(session, SYSTEM, n_topics=2, jurisdiction="US")
    assert view.projects == 5 and float(view.money) == 1000.0
    ai, quantum = view.topics
    assert (ai.projects, float(ai.money), ai.agencies) == (3, 800.0, 2)
    assert ai.herfindahl == pytest.approx((500 / 800) ** 2 + (300 / 800) ** 2)
    assert (quantum.projects, float(quantum.money), quantum.agencies, quantum.herfindahl) == (
        2,
        200.0,
        1,
        1.0,
    )
    assert "qubits" in quantum.terms
    assert view.weights_from == "equal weights"
    by_key = {f.key: f for f in view.fields}
    assert len(by_key) == 8  # the US mechanism's strategic fields
    assert (by_key["ai"].money, by_key["quantum"].money) == (800.0, 200.0)
    assert by_key["ai"].share == pytest.approx(0.8) and by_key["ai"].weight == pytest.approx(0.125)
    assert by_key["ai"].gap == pytest.approx(0.675)
    assert by_key["space"].gap == pytest.approx(-0.125)  # no money against an equal share
    assert view.fields[0].gap == pytest.approx(-0.125)  # most under-funded first
    spec = landscape_charts(view, lambda s: s)
    assert spec["topics"]["mark"] == "bar" and len(spec["topics"]["data"]["values"]) == 2


def test_priority_weights_come_from_the_budget_priority_set(portfolio: Database) -> None:
    with portfolio.scope() as session:
        set_priorities(
            session,
            SYSTEM,
            key="fy26",
            title="FY26",
            classification="nitrd-pca-fy2020",
            fiscal_year=2026,
            method="direct",
            weights={"AI": 1},
        )
    with portfolio.scope(write=False) as session:
        view = landscape.build(session, SYSTEM, n_topics=2, jurisdiction="US")
    assert view.weights_from == "priority set fy26"
    by_key = {f.key: f for f in view.fields}
    assert by_key["ai"].weight == 1.0 and by_key["quantum"].weight == 0.0
    assert by_key["ai"].gap == pytest.approx(-0.2)  # 80% of the money, all of the priority


def test_landscape_page_shows_topics_fields_and_charts(
    portfolio: Database, client: TestClient
) -> None:
    make_user(portfolio, "office", Role.viewer)
    login(client, "office")
    page = client.get("/portfolio/landscape", params={"n_topics": 2})
    assert page.status_code == 200
    assert "qubits" in page.text and "Herfindahl" in page.text
    assert "equal weights" in page.text and 'id="topics-spec"' in page.text
    assert client.get("/portfolio/landscape", params={"n_topics": 1}).status_code == 422
