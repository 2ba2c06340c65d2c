"""What a coordinator sees of the budget in a real browser: the crosscut explorer (table, sorting,
filters, the live Vega-Lite charts, the server-drawn treemap and Sankey) and a scenario's
explained answer, with and without JavaScript.

This module serves its own app on a database seeded like ``stcoord seed --demo-users`` plus
four years of US budget lines for eight agencies under the FY2020 NITRD fields, a priority set
and two scenarios (one feasible, one whose constraints conflict). Screenshots go to the pytest
temporary directory.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from stcoord.auth.permissions import SYSTEM
from stcoord.budget import priorities, scenarios
from stcoord.budget.lines import LineRecord, replace_lines
from stcoord.budget.models import BudgetField, Classification
from stcoord.config import Settings
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.seed import DEMO_PASSWORD
from tests.e2e.conftest import _free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
SCHEME = "nitrd-pca-fy2020"
YEARS = (2021, 2022, 2023, 2024)
# agency -> (base amount in USD millions, {field: share})
AGENCIES = {
    "NSF": (1200, {"AI": 0.3, "LSN": 0.2, "HCIA": 0.2, "CSP": 0.15, "EdW": 0.15}),
    "DOE": (1500, {"HCIA": 0.6, "EHCS": 0.25, "AI": 0.15}),
    "NIH": (900, {"LSDMA": 0.5, "AI": 0.3, "CHuman": 0.2}),
    "DARPA": (700, {"AI": 0.4, "CSP": 0.3, "IRAS": 0.3}),
    "NIST": (180, {"CSP": 0.5, "AI": 0.3, "SPSQ": 0.2}),
    "NASA": (150, {"HCIA": 0.5, "CNPS": 0.5}),
    "NOAA": (80, {"HCIA": 0.7, "LSDMA": 0.3}),
    "DHS": (60, {}),  # unclassified money
}


def budget_records(field_ids: dict[str, int]) -> list[LineRecord]:
    records = []
    for i, year in enumerate(YEARS):
        for j, (agency, (base, shares)) in enumerate(AGENCIES.items()):
            enacted = Decimal(base * 1_000_000) * (Decimal("1.04") + Decimal(j) / 100) ** i
            records.append(
                LineRecord(
                    fiscal_year=year,
                    agency=agency,
                    line_key=f"{agency}-RD",
                    title=f"{agency} networking and IT R&D",
                    currency="USD",
                    amounts={
                        "request": (enacted * Decimal("1.08")).quantize(Decimal(1)),
                        "enacted": enacted.quantize(Decimal(1)),
                        "actual": (enacted * Decimal("0.97")).quantize(Decimal(1))
                        if year < 2024
                        else None,
                    },
                    program=f"{agency}-core",
                    shares={field_ids[f]: s for f, s in shares.items()},
                    steered_by="AI memo" if agency in ("NSF", "DARPA") else None,
                )
            )
    return records


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served app with demo users, budget lines, priorities and two scenarios."""
    import uvicorn

    from stcoord.seed import seed
    from stcoord.web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-budget-db') / 'stcoord.db'}"
    upgrade(url)
    database = Database(make_engine(url))
    with database.scope() as session:
        seed(session, demo_users=True)
        field_ids = dict(
            session.execute(
                select(BudgetField.key, BudgetField.id)
                .join(Classification)
                .where(Classification.key == SCHEME)
            ).all()
        )
        scheme_id = session.scalar(select(Classification.id).where(Classification.key == SCHEME))
        records = budget_records(field_ids)
        replace_lines(
            session,
            jurisdiction="US",
            source="e2e",
            records=records,
            classification_id=scheme_id,
        )
    last_total = float(
        sum(r.amounts["enacted"] or 0 for r in records if r.fiscal_year == YEARS[-1])
    )
    with database.scope() as session:
        priorities.set_priorities(
            session,
            SYSTEM,
            key="fy2025",
            title="FY2025 priorities",
            classification=SCHEME,
            fiscal_year=2025,
            method="ahp",
            items=["AI", "HCIA", "CSP", "LSN"],
            judgements=[
                ["AI", "HCIA", 3],
                ["AI", "CSP", 5],
                ["AI", "LSN", 5],
                ["HCIA", "CSP", 2],
                ["HCIA", "LSN", 2],
                ["CSP", "LSN", 1],
            ],
            memo="AI first.\n\nComputing infrastructure second.",
        )
        for key, params in (
            ("grow", {"envelope": round(last_total * 1.05), "min_shares": {"AI": 0.25}}),
            ("squeeze", {"envelope": round(last_total * 0.6), "spend_all": True}),
        ):
            scenarios.run_scenario(
                session,
                SYSTEM,
                key=key,
                title=key.title(),
                priorities="fy2025",
                parameters=scenarios.ScenarioParameters(base_year=2024, **params),
            )
    app = create_app(Settings(database_url=url, secret_key="e2e-secret"), database)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    database.engine.dispose()


def sign_in(page: Page, lang: str = "en") -> None:
    page.goto(f"/login?lang={lang}")
    page.locator('input[name="username"]').fill("coordinator")
    page.locator('input[name="password"]').fill(DEMO_PASSWORD)
    page.locator('form[action="/login"] button[type="submit"]').click()
    expect(page).not_to_have_url(re.compile("/login"))


def live_chart(page: Page, chart_id: str) -> None:
    """vega-embed drew the chart (and the server-rendered fallback was hidden)."""
    figure = page.locator(f"figure#{chart_id}")
    expect(figure.locator(".vl-live svg.marks")).to_be_visible()
    expect(figure.locator(".vl-static")).to_be_hidden()


def test_crosscut_explorer(page: Page, screenshots: Path) -> None:
    sign_in(page)
    page.goto("/budget/crosscut?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget crosscut")
    rows = page.locator("table.crosscut tbody tr")
    expect(rows).to_have_count(len(AGENCIES) * len(YEARS))
    live_chart(page, "chart-stack")
    live_chart(page, "chart-phases")
    # the server-drawn charts: one treemap cell per (agency, field) with money, one ribbon per
    # agency from the total plus one per (agency, field)
    cells = sum(max(1, len(shares)) for _, shares in AGENCIES.values())
    expect(page.locator("#chart-treemap svg g.cell")).to_have_count(cells)
    expect(page.locator("#chart-sankey svg path.link")).to_have_count(len(AGENCIES) + cells)
    page.screenshot(path=screenshots / "en-budget-crosscut.png", full_page=True)

    # sort by amount, largest first: DOE's latest year leads
    page.locator("table.crosscut thead").get_by_role("link", name="Amount").click()
    page.locator("table.crosscut thead").get_by_role("link", name=re.compile("Amount")).click()
    expect(rows.first.locator("td").first).to_contain_text("DOE")
    expect(rows.first.locator("td").nth(1)).to_contain_text("FY2024")

    # filter: fields in 2024 only, grouped by field
    form = page.locator("form.crosscut-filters")
    form.locator('input[name="by"][value="agency"]').uncheck()
    form.locator('input[name="by"][value="field"]').check()
    form.locator('input[name="years"][value="2024"]').check()
    form.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"by=field.*years=2024|years=2024.*by=field"))
    fields = {f for _, shares in AGENCIES.values() for f in shares}
    expect(rows).to_have_count(len(fields) + 1)  # and (unclassified)
    expect(page.locator("table.crosscut")).to_contain_text("(unclassified)")
    csv_link = page.locator("a.csv")
    assert "by=field" in (csv_link.get_attribute("href") or "")
    response = page.request.get(csv_link.get_attribute("href") or "")
    assert response.ok and response.text().count("\n") == len(fields) + 2

    # stack the yearly bars by field instead
    page.locator("#charts").get_by_role("link", name="field", exact=True).click()
    live_chart(page, "chart-stack")
    page.screenshot(path=screenshots / "en-budget-crosscut-fields.png", full_page=True)


def test_crosscut_in_japanese(page: Page, screenshots: Path) -> None:
    sign_in(page, "ja")
    page.goto("/budget/crosscut?lang=ja&tree=field")
    expect(page.locator("#chart-treemap svg")).to_be_visible()
    live_chart(page, "chart-stack")
    page.screenshot(path=screenshots / "ja-budget-crosscut.png", full_page=True)


def test_scenario_explains_itself(page: Page, screenshots: Path) -> None:
    sign_in(page)
    page.goto("/budget/scenarios/grow?lang=en")
    expect(page.locator("h1 .outcome")).to_have_text("optimal")
    expect(page.locator("#answer")).to_contain_text("One more unit of envelope")
    expect(page.locator("table.binding tbody tr")).not_to_have_count(0)
    expect(page.locator("#fields")).to_contain_text("Artificial Intelligence R&D")
    live_chart(page, "chart-agencies")
    live_chart(page, "chart-fields")
    page.screenshot(path=screenshots / "en-budget-scenario.png", full_page=True)

    page.goto("/budget/scenarios/squeeze?lang=en")
    expect(page.locator("h1 .outcome")).to_have_text("infeasible")
    expect(page.locator("#conflict ul.conflict li")).not_to_have_count(0)
    page.screenshot(path=screenshots / "en-budget-scenario-infeasible.png", full_page=True)

    page.goto("/budget/scenarios/compare?keys=grow,squeeze&lang=en")
    expect(page.locator("table.compare-scenarios thead th a")).to_have_count(2)
    page.screenshot(path=screenshots / "en-budget-compare.png", full_page=True)


def test_a_scenario_run_from_the_form(page: Page) -> None:
    sign_in(page)
    page.goto("/budget/scenarios?lang=en")
    form = page.locator("form#run-form")
    form.locator('input[name="key"]').fill("from-form")
    form.locator('input[name="min:AI"]').fill("20")
    form.get_by_role("button", name="Solve and save").click()
    expect(page).to_have_url(re.compile("/budget/scenarios/from-form"))
    expect(page.locator(".flash")).to_have_text("The scenario was solved and saved.")
    expect(page.locator("h1 .outcome")).to_have_text("optimal")
    expect(page.locator("dl.facts")).to_contain_text("AI 20.0%")
    expect(page.locator("table.binding tbody tr")).not_to_have_count(0)


def test_charts_are_server_rendered_without_javascript(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    page = context.new_page()
    try:
        sign_in(page)
        page.goto("/budget/crosscut?lang=en")
        expect(page.locator("figure#chart-stack .vl-static svg")).to_be_visible()
        expect(page.locator("figure#chart-stack .vl-live")).to_be_hidden()
        expect(page.locator("#chart-sankey svg")).to_be_visible()
        page.screenshot(path=screenshots / "en-budget-crosscut-nojs.png", full_page=True)
    finally:
        context.close()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_supplement_pdf(page: Page, screenshots: Path) -> None:
    sign_in(page)
    response = page.request.get(
        f"/budget/supplement.pdf?jurisdiction=US&classification={SCHEME}"
        "&years=2022,2023,2024&phase=enacted&lang=en"
    )
    assert response.ok and response.body().startswith(b"%PDF-")
    pdf = screenshots / "en-budget-supplement.pdf"
    pdf.write_bytes(response.body())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(pdf), str(screenshots / "supplement")], check=True
    )
    assert len(list(screenshots.glob("supplement-*.png"))) >= 3
