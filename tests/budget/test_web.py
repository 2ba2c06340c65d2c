"""The budget's HTML pages on both databases: who sees what, the explorer and its exports and
charts, data calls with checked uploads, priorities, scenarios, unity."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from html import unescape

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from stcoord.auth.permissions import SYSTEM, Role
from stcoord.budget import datacalls, priorities
from stcoord.budget.models import BudgetLine, PrioritySet
from stcoord.db.session import Database
from tests.budget.conftest import SCHEME
from tests.helpers import login, make_user

HEADER = "line_key,title,program,request,estimate,enacted,actual,steered_by,share:AI,share:LSN\n"


def sign_in(
    db: Database, client: TestClient, role: Role, bodies: list[tuple[str, str]] | None = None
) -> str:
    username = f"{role.value}-{len(bodies or [])}"
    make_user(db, username, role, bodies)
    return login(client, username)


@pytest.fixture
def coordinator(budget_db: Database, client: TestClient) -> str:
    """The client signed in as a coordinator; returns the CSRF token."""
    return sign_in(budget_db, client, Role.coordinator)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, ident: str) -> str:
    start = html.index(f'id="{ident}"')
    end = html.find("</section>", start)
    return html[start:end]


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def open_call(db: Database) -> None:
    with db.scope() as session:
        datacalls.open_data_call(
            session,
            SYSTEM,
            key="fy2024",
            jurisdiction="US",
            fiscal_year=2024,
            classification=SCHEME,
            title="FY2024 NITRD data call",
            currency="USD",
            agencies=["NSF", "DOE"],
        )


def data_call_lines(db: Database) -> int:
    with db.scope(write=False) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(BudgetLine)
                .where(BudgetLine.data_call_id.is_not(None))
            )
            or 0
        )


def set_priorities(db: Database, key: str = "p1", memo: str | None = None) -> None:
    with db.scope() as session:
        priorities.set_priorities(
            session,
            SYSTEM,
            key=key,
            title="FY2024 priorities",
            classification=SCHEME,
            fiscal_year=2024,
            method="direct",
            weights={"AI": 3, "LSN": 1, "HCIA": 1},
            memo=memo,
        )


# ---------------------------------------------------------------- who may see the budget

PAGES = [
    "/budget",
    "/budget/crosscut",
    "/budget/crosscut.csv",
    "/budget/crosscut.xlsx",
    "/budget/unity",
    "/budget/datacalls",
    "/budget/priorities",
    "/budget/scenarios",
    "/budget/scenarios/compare",
    "/budget/supplement",
]


def test_anonymous_visitors_are_sent_to_sign_in(budget_db: Database, client: TestClient) -> None:
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/budget"), path
    api_style = client.get("/budget/crosscut", headers={"accept": "application/json"})
    assert api_style.status_code == 401


def test_a_stakeholder_is_refused_and_a_viewer_gets_no_forms(
    budget_db: Database, client: TestClient
) -> None:
    sign_in(budget_db, client, Role.stakeholder)
    assert client.get("/budget").status_code == 403
    assert client.get("/budget/crosscut").status_code == 403
    client.cookies.clear()
    sign_in(budget_db, client, Role.viewer)
    page = client.get("/budget?lang=en")
    assert page.status_code == 200
    assert "/budget/datacalls/new" not in page.text
    assert client.get("/budget/datacalls/new").status_code == 403
    assert client.get("/budget/priorities/new").status_code == 403


def test_every_page_answers_a_coordinator(coordinator: str, client: TestClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    for path in ("/budget/datacalls/new", "/budget/priorities/new"):
        assert client.get(path).status_code == 200, path


# ---------------------------------------------------------------- landing page


def test_landing_page_links_everything(coordinator: str, client: TestClient) -> None:
    page = client.get("/budget?lang=en").text
    for href in (
        "/budget/crosscut?jurisdiction=US",
        "/budget/unity?jurisdiction=US",
        "/budget/datacalls",
        "/budget/priorities",
        "/budget/scenarios",
        "/budget/datacalls/new",
        f"/budget/supplement?jurisdiction=US&amp;classification={SCHEME}",
    ):
        assert href in page, href
    card = text_of(section(page, "data"))
    assert "Budget lines 12" in card and "Agencies 3" in card and "2021–2023" in card
    assert "nitrd-pca-fy2020" in page


def test_landing_page_says_how_to_load_data(db: Database, client: TestClient) -> None:
    sign_in(db, client, Role.coordinator)
    page = client.get("/budget?lang=en").text
    assert "No budget lines yet." in page and "stcoord budget import" in page
    assert "No data call yet." in page and "No priorities set yet." in page
    explorer = client.get("/budget/crosscut?lang=en")
    assert explorer.status_code == 200 and "stcoord budget import" in explorer.text


# ---------------------------------------------------------------- the crosscut explorer


def test_crosscut_table_by_agency_and_year(coordinator: str, client: TestClient) -> None:
    page = client.get("/budget/crosscut?lang=en").text
    table = section(page, "table")
    assert "Total: <strong>2,130</strong> USD" in table  # 360 + 710 + 1060
    rows = re.findall(r"<tr>\s*<td>(.*?)</td><td>(.*?)</td>", table)
    assert len(rows) == 9
    assert ("DOE", "FY2022") in rows
    doe_2022 = re.search(r"<td>DOE</td><td>FY2022</td>.*?</tr>", table, flags=re.S)
    assert doe_2022 is not None
    assert ">400<" in doe_2022.group(0) and "56.3%" in doe_2022.group(0)  # 400 / 710
    assert "+100.0%" in doe_2022.group(0)  # 200 -> 400
    assert 'href="/budget/crosscut.csv?jurisdiction=US' in table


def test_crosscut_filters_sorting_and_paging_links(coordinator: str, client: TestClient) -> None:
    page = client.get(
        "/budget/crosscut?lang=en&by=field&by=year&years=2023&years=2022&sort=-amount"
    ).text
    table = section(page, "table")
    first = re.search(r"<tbody>\s*<tr>\s*<td>(.*?)</td><td>(.*?)</td>", table)
    assert first is not None and first.groups() == (
        "HCIA · High-Capability Computing Infrastructure and Applications",
        "FY2023",
    )
    assert "(unclassified)" in table
    assert "FY2021" not in table
    # links keep every filter (years comma-joined) and flip the sort
    assert "sort=amount" in table and "years=2022%2C2023" in table
    checked = re.findall(r'name="years" value="(\d+)" checked', page)
    assert checked == ["2022", "2023"]
    by_agency = client.get("/budget/crosscut?by=agency&agencies=DOE,NIST&lang=en").text
    assert "NSF" not in section(by_agency, "table")


def test_crosscut_exports_use_the_same_query(coordinator: str, client: TestClient) -> None:
    query = "by=agency,year&years=2022,2023&phase=enacted"
    response = client.get(f"/budget/crosscut.csv?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["agency"] for r in rows][:2] == ["DOE", "DOE"]
    assert len(rows) == 6
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal(1770)
    doe = next(r for r in rows if r["agency"] == "DOE" and r["year"] == "2023")
    assert float(doe["growth"]) == pytest.approx(0.5)
    # the first year shown still has its growth on the year before (read, not shown)
    doe = next(r for r in rows if r["agency"] == "DOE" and r["year"] == "2022")
    assert float(doe["growth"]) == pytest.approx(1.0)
    xlsx = client.get(f"/budget/crosscut.xlsx?{query}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("agency", "year", "amount", "share_of_year", "growth")
    assert len(values) == 7 and sum(v[2] for v in values[1:]) == pytest.approx(1770)


def test_crosscut_charts_are_well_formed_svg(coordinator: str, client: TestClient) -> None:
    page = client.get("/budget/crosscut?lang=en").text
    for ident in ("chart-stack", "chart-treemap", "chart-sankey", "chart-phases"):
        assert f'id="{ident}"' in page, ident
    drawn = svgs(page)
    assert len(drawn) >= 4
    for svg in drawn:
        ET.fromstring(svg)
    treemap = section(page, "charts")
    assert treemap.count('class="cell"') == 4  # NSF: AI, LSN; DOE: HCIA; NIST: unclassified
    # the live charts get their specs as JSON
    spec = re.search(r'<script type="application/json" id="chart-stack-spec">(.*?)</script>', page)
    assert spec is not None and '"$schema"' in spec.group(1)
    stacked_by_field = client.get("/budget/crosscut?stack=field&tree=field&lang=en").text
    assert "Artificial Intelligence R&amp;D" in section(stacked_by_field, "charts")


def test_a_liaison_sees_only_its_agency(budget_db: Database, client: TestClient) -> None:
    sign_in(budget_db, client, Role.liaison, [("US", "nsf")])
    page = client.get("/budget/crosscut?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "NSF" in text
    assert "DOE" not in text and "NIST" not in text
    assert "Total: <strong>900</strong>" in text  # NSF: 150 + 300 + 450
    rows = list(
        csv.DictReader(io.StringIO(client.get("/budget/crosscut.csv").text.lstrip("\ufeff")))
    )
    assert {r["agency"] for r in rows} == {"NSF"}
    unity = client.get("/budget/unity?lang=en").text
    assert "AI · Artificial" in unity and "HCIA · High" not in unity  # HCIA money is DOE's


def test_unity_page(coordinator: str, client: TestClient) -> None:
    page = client.get("/budget/unity?jurisdiction=US&year=2023&lang=en").text
    assert "Steered in FY2023" in page
    row = re.search(r"<td>AI · Artificial Intelligence R&amp;D</td>.*?</tr>", page, flags=re.S)
    assert row is not None
    assert ">150<" in row.group(0) and ">300<" in row.group(0) and "50.0%" in row.group(0)
    assert 'id="chart-unity"' in page
    for svg in svgs(page):
        ET.fromstring(svg)


# ---------------------------------------------------------------- data calls


def test_coordinator_opens_a_data_call_from_the_form(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    form = client.get("/budget/datacalls/new?jurisdiction=US&lang=en").text
    assert 'name="agencies" value="NSF"' in form and 'value="2024"' in form
    refused = client.post(
        "/budget/datacalls",
        data={
            "csrf_token": coordinator,
            "key": "Bad Key",
            "title": "",
            "jurisdiction": "US",
            "fiscal_year": "soon",
            "classification": SCHEME,
            "currency": "USD",
        },
    )
    assert refused.status_code == 422
    problems = text_of(refused.text)
    assert "key" in problems and "fiscal_year" in problems and "title" in problems
    done = client.post(
        "/budget/datacalls",
        data={
            "csrf_token": coordinator,
            "key": "fy2024",
            "title": "FY2024 NITRD data call",
            "jurisdiction": "US",
            "fiscal_year": "2024",
            "classification": SCHEME,
            "currency": "USD",
            "due": "2024-03-31",
            "agencies": ["NSF", "DOE"],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/budget/datacalls/fy2024"
    page = client.get("/budget/datacalls/fy2024?lang=en").text
    assert "The data call was opened." in page
    status = text_of(section(page, "status"))
    assert "DOE" in status and "NSF" in status and "pending" in status
    assert "/api/v1/budget/datacalls/fy2024/template/NSF.xlsx" in page
    again = client.post(
        "/budget/datacalls",
        data={
            "csrf_token": coordinator,
            "key": "fy2024",
            "title": "Again",
            "jurisdiction": "US",
            "fiscal_year": "2024",
            "classification": SCHEME,
            "currency": "USD",
            "agencies": ["NSF"],
        },
    )
    assert again.status_code == 409 and "already exists" in again.text
    listing = client.get("/budget/datacalls?lang=en").text
    assert "FY2024 NITRD data call" in listing and "0 of 2" in listing


def test_a_bad_upload_lists_every_problem_and_writes_nothing(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    open_call(budget_db)
    bad = HEADER + "N1,A,,-5,,,,,50,20\nN1,B,,10,,,,,100,\n,C,,ten,,,,,x,\nN4,D,,,,,,,,\n"
    response = client.post(
        "/budget/datacalls/fy2024/submissions/NSF",
        data={"csrf_token": coordinator, "stated_total": "999"},
        files={"file": ("nsf.csv", bad.encode(), "text/csv")},
    )
    assert response.status_code == 422
    refusal = response.text[response.text.index('class="error refusal"') :]
    rows = re.findall(
        r'<tr><td class="where">(.*?)</td><td><code>(.*?)</code></td><td lang="en">(.*?)</td>',
        refusal,
    )
    found = {(r, c, unescape(m)) for r, c, m in rows}
    assert ("2", "request", "negative amount -5") in found
    assert ("2", "shares", "field shares sum to 70.00%, not 100%") in found
    assert ("3", "line_key", "duplicate of row 2") in found
    assert ("4", "request", "not an amount: 'ten'") in found
    assert ("4", "share:AI", "not a percentage: 'x'") in found
    assert ("4", "line_key", "is required") in found
    assert ("5", "amounts", "no amount in any phase") in found
    heading = f"nsf.csv for NSF was not accepted: {len(rows)} problems. Nothing was written."
    assert heading in unescape(refusal)
    assert data_call_lines(budget_db) == 0
    # what was typed stays in the form
    assert 'value="999"' in refusal
    # an unreadable file and an unknown column
    for name, content, message in (
        ("nsf.txt", b"x", "use a .csv or .xlsx file"),
        ("nsf.csv", HEADER.replace("share:LSN", "share:XYZ").encode(), "unknown field code"),
    ):
        response = client.post(
            "/budget/datacalls/fy2024/submissions/NSF",
            data={"csrf_token": coordinator},
            files={"file": (name, content, "text/csv")},
        )
        assert response.status_code == 422 and message in unescape(response.text)
    assert data_call_lines(budget_db) == 0


def test_a_clean_upload_is_saved(coordinator: str, client: TestClient, budget_db: Database) -> None:
    open_call(budget_db)
    good = HEADER + "N1,Core AI,AI-core,120,,,,,60,40\nN2,Networks,,80,,,,,,100%\n"
    response = client.post(
        "/budget/datacalls/fy2024/submissions/NSF",
        data={"csrf_token": coordinator, "stated_total": "200"},
        files={"file": ("nsf.csv", good.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert data_call_lines(budget_db) == 2
    page = client.get("/budget/datacalls/fy2024?lang=en").text
    assert "The file was checked and its lines were saved." in page
    nsf = re.search(r"<code>NSF</code>.*?</tr>", section(page, "status"), flags=re.S)
    assert nsf is not None and "submitted" in nsf.group(0) and ">200<" in nsf.group(0)


def test_a_liaison_may_upload_only_for_its_agency(budget_db: Database, client: TestClient) -> None:
    open_call(budget_db)
    token = sign_in(budget_db, client, Role.liaison, [("US", "nsf")])
    page = client.get("/budget/datacalls/fy2024?lang=en").text
    assert 'id="upload-NSF"' in page and 'id="upload-DOE"' not in page
    assert "DOE" not in section(page, "status")
    sheet = (HEADER + "D1,x,,10,,,,,100,\n").encode()
    refused = client.post(
        "/budget/datacalls/fy2024/submissions/DOE",
        data={"csrf_token": token},
        files={"file": ("doe.csv", sheet, "text/csv")},
    )
    assert refused.status_code == 403
    assert data_call_lines(budget_db) == 0


# ---------------------------------------------------------------- priorities


def test_direct_priorities_from_the_form(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    form = client.get(f"/budget/priorities/new?classification={SCHEME}&method=direct&lang=en")
    assert form.status_code == 200 and 'name="w:AI"' in form.text
    data = {
        "csrf_token": coordinator,
        "classification": SCHEME,
        "method": "direct",
        "key": "p2024",
        "title": "FY2024 priorities",
        "fiscal_year": "2024",
        "w:AI": "3",
        "w:LSN": "1",
        "memo": "AI first.\n\nThen <b>networks</b>.",
    }
    check = client.post("/budget/priorities", data={**data, "action": "check"})
    assert check.status_code == 200 and "75.0%" in check.text  # shown, not saved
    with budget_db.scope(write=False) as session:
        assert session.scalar(select(func.count()).select_from(PrioritySet)) == 0
    saved = client.post(
        "/budget/priorities", data={**data, "action": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/budget/priorities/p2024"
    page = client.get("/budget/priorities/p2024?lang=en").text
    assert "The priorities were saved." in page
    memo = page[page.index('<article class="memo">') : page.index("</article>")]
    assert "<p>AI first.</p>" in memo
    assert "&lt;b&gt;networks&lt;/b&gt;" in memo and "<b>" not in memo  # never raw HTML
    assert "Consistency ratio" not in page  # direct weights have none
    bad = client.post("/budget/priorities", data={**data, "key": "p2", "w:AI": "lots"})
    assert bad.status_code == 422 and "not a number" in bad.text


def test_ahp_priorities_warn_above_a_tenth(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    url = f"/budget/priorities/new?classification={SCHEME}&method=ahp&items=AI,LSN,HCIA&lang=en"
    form = client.get(url).text
    selects = re.findall(r'<select name="(j:[^"]+)"', form)
    assert selects == ["j:AI:HCIA", "j:AI:LSN", "j:HCIA:LSN"]  # in the classification's order
    assert '<option value="1/9">1/9</option>' in form
    data = {
        "csrf_token": coordinator,
        "classification": SCHEME,
        "method": "ahp",
        "items": ["AI", "LSN", "HCIA"],
        "key": "ahp",
        "title": "AHP",
        "fiscal_year": "2024",
    }
    consistent = {"j:AI:HCIA": "5", "j:AI:LSN": "3", "j:HCIA:LSN": "1/2"}
    check = client.post("/budget/priorities", data={**data, **consistent, "action": "check"})
    assert check.status_code == 200
    assert "acceptable (at most 0.1)" in check.text and "Warning" not in check.text
    assert '<option value="1/2" selected>' in check.text  # the judgements are kept
    muddled = {"j:AI:HCIA": "1/9", "j:AI:LSN": "9", "j:HCIA:LSN": "1/9"}
    saved = client.post(
        "/budget/priorities", data={**data, **muddled, "action": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303
    page = client.get("/budget/priorities/ahp?lang=en").text
    box = page[page.index('id="consistency"') :][:800]
    assert 'role="alert"' in box and "above 0.1" in box
    assert page.count("<select") == 0  # the judgements are shown, not editable
    assert "<td>9</td>" in section(page, "judgements")
    listing = client.get("/budget/priorities?lang=en").text
    assert "above 0.1" in listing


def test_memo_edits_and_a_stale_edit_is_refused(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    set_priorities(budget_db, memo="First version.")
    page = client.get("/budget/priorities/p1?lang=en").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    saved = client.post(
        "/budget/priorities/p1/memo",
        data={"csrf_token": coordinator, "version": version.group(1), "memo": "Second."},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "<p>Second.</p>" in client.get("/budget/priorities/p1").text
    stale = client.post(
        "/budget/priorities/p1/memo",
        data={"csrf_token": coordinator, "version": version.group(1), "memo": "Mine."},
    )
    assert stale.status_code == 409
    assert "<p>Second.</p>" in stale.text and ">Mine.</textarea>" in stale.text


# ---------------------------------------------------------------- scenarios


def run_form(token: str, **values: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "key": "s1",
        "title": "Grow AI",
        "priorities": "p1",
        "base_year": "2023",
        "envelope": "1100",
        "band": "10",
        "phase": "enacted",
        **values,
    }


def test_a_scenario_from_the_form_explains_itself(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    set_priorities(budget_db)
    listing = client.get("/budget/scenarios?lang=en").text
    assert 'id="run-form"' in listing and 'name="min:AI"' in listing
    assert 'name="envelope" value="1060"' in listing  # the base year's total by default
    response = client.post("/budget/scenarios", data=run_form(coordinator), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/budget/scenarios/s1"
    page = client.get("/budget/scenarios/s1?lang=en").text
    assert "The scenario was solved and saved." in page
    assert '<span class="outcome outcome-optimal">optimal</span>' in page
    assert "One more unit of envelope buys" in page or "The envelope does not bind" in page
    binding = section(page, "binding")
    assert "program_ceiling:" in binding or "envelope" in binding
    agencies = text_of(section(page, "agencies"))
    assert "DOE 600" in agencies and "NSF 450" in agencies
    fields = text_of(section(page, "fields"))
    assert "AI · Artificial Intelligence R&D 60.0%" in fields
    for svg in svgs(page):
        ET.fromstring(svg)


def test_an_infeasible_scenario_shows_the_conflict(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    set_priorities(budget_db)
    response = client.post(
        "/budget/scenarios",
        data=run_form(coordinator, key="tight", envelope="500", spend_all="1"),
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get("/budget/scenarios/tight?lang=en").text
    assert '<span class="outcome outcome-infeasible">infeasible</span>' in page
    conflict = section(page, "conflict")
    assert "No allocation satisfies every constraint" in conflict
    assert '<code class="muted">envelope</code>' in conflict
    assert conflict.count("<li>") >= 2


def test_scenario_form_refusals_keep_what_was_typed(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    set_priorities(budget_db)
    bad = client.post(
        "/budget/scenarios",
        data=run_form(coordinator, key="Not a key", envelope="lots", **{"min:AI": "150"}),
    )
    assert bad.status_code == 422
    problems = text_of(bad.text)
    assert "key" in problems and "envelope" in problems and "min:AI" in problems
    assert 'value="lots"' in bad.text and 'value="150"' in bad.text
    client.post("/budget/scenarios", data=run_form(coordinator))
    again = client.post("/budget/scenarios", data=run_form(coordinator))
    assert again.status_code == 409


def test_compare_scenarios_side_by_side(
    coordinator: str, client: TestClient, budget_db: Database
) -> None:
    set_priorities(budget_db)
    client.post("/budget/scenarios", data=run_form(coordinator, key="a", envelope="1000"))
    client.post("/budget/scenarios", data=run_form(coordinator, key="b", envelope="1150"))
    page = client.get("/budget/scenarios/compare?keys=a,b&lang=en").text
    header = page[page.index('class="data compare-scenarios"') : page.index("</thead>")]
    assert header.index("/budget/scenarios/a") < header.index("/budget/scenarios/b")
    agencies = text_of(section(page, "agencies"))
    assert "Per agency Agency a b DOE" in agencies
    assert 'id="chart-compare"' in page
    picker = client.get("/budget/scenarios/compare?lang=en").text
    assert "Tick two or more scenarios" in picker
    assert client.get("/budget/scenarios/compare?keys=a,nope").status_code == 404
