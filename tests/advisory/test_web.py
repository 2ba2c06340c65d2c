"""Advisory pages: adoption chart, tracker list, forms for advisers and the office, the report."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from stcoord.auth.permissions import Role
from stcoord.db.session import Database
from tests.advisory.conftest import PLAN, REPORT
from tests.helpers import login, make_user

PAGE = f"/advisory/reports/{REPORT}"


def test_index_shows_adoption_per_body_with_a_chart(adv_db: Database, client: TestClient) -> None:
    page = client.get("/advisory")
    assert page.status_code == 200
    html = page.text
    assert 'id="adoption-chart"' in html and "<svg" in html
    row = re.search(r'<td><a href="/advisory/recommendations\?body=US:pcast">.*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(?:<strong>)?([^<]+)', row.group(0))
    assert cells == ["4", "1", "1", "1", "0", "1", "50%", "1 (25%)", "0 (0%)"]
    assert "Demo report on AI research" in html
    assert "File a report" not in html  # anonymous


def test_index_in_japanese(adv_db: Database, client: TestClient) -> None:
    html = client.get("/advisory?lang=ja").text
    assert "採択率" in html  # Adoption rate


def test_tracker_list_filters_sorts_and_exports(adv_db: Database, client: TestClient) -> None:
    html = client.get("/advisory/recommendations?status=open&sort=-number").text
    numbers = re.findall(r'/recommendations/(\d+)">\d+</a>', html)
    assert numbers == ["4", "3", "2"]
    assert "Showing 1–3 of 3 recommendations" in html
    paged = client.get("/advisory/recommendations?limit=1&offset=1").text
    assert "Page 2 of 4" in paged
    xlsx = client.get("/advisory/recommendations.xlsx?position=reject")
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][4] == "3" and rows[1][7] == "reject"
    csv = client.get("/advisory/recommendations.csv").content.decode("utf-8-sig")
    assert len(csv.splitlines()) == 5


def test_adviser_files_a_report_adds_and_imports(adv_db: Database, client: TestClient) -> None:
    make_user(adv_db, "adv", Role.advisor, [("US", "pcast")])
    token = login(client, "adv")
    form = client.get("/advisory/reports/new").text
    assert 'value="US:pcast"' in form and 'value="US:naiac"' not in form
    filed = client.post(
        "/advisory/reports",
        data={"csrf_token": token, "body": "US:pcast", "key": "p2", "title": "Second"},
        follow_redirects=False,
    )
    assert filed.status_code == 303 and filed.headers["location"] == "/advisory/reports/p2"
    refused = client.post(
        "/advisory/reports",
        data={
            "csrf_token": token,
            "body": "US:pcast",
            "key": "p3",
            "title": "T",
            "published_on": "May",
        },
    )
    assert refused.status_code == 422 and "published_on" in refused.text
    added = client.post(
        "/advisory/reports/p2/recommendations",
        data={"csrf_token": token, "number": "1", "text": "Build", "addressed_to": "nsf; nist"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    bad = client.post(
        "/advisory/reports/p2/import",
        data={"csrf_token": token},
        files={"file": ("r.csv", b"number,text\n2,\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert "Not saved" in bad.text and "r.csv:2" in bad.text
    good = client.post(
        "/advisory/reports/p2/import",
        data={"csrf_token": token},
        files={"file": ("r.csv", b"number,text\n2,Share\n3,Train\n", "text/csv")},
        follow_redirects=False,
    )
    assert good.status_code == 303
    page = client.get("/advisory/reports/p2").text
    assert "The recommendations were imported." in page
    assert re.findall(r'/recommendations/(\d+)">', page) == ["1", "2", "3"]
    assert "nsf, nist" in page
    # the adviser is not the office: no response form, and a posted response is refused
    rec_page = client.get("/advisory/reports/p2/recommendations/1").text
    assert 'action="/advisory/reports/p2/recommendations/1/respond"' not in rec_page
    refused = client.post(
        "/advisory/reports/p2/recommendations/1/respond",
        data={"csrf_token": token, "version": "1", "position": "accept", "text": "x"},
    )
    assert refused.status_code == 403


def test_office_records_response_status_and_links(adv_db: Database, client: TestClient) -> None:
    make_user(adv_db, "office", Role.coordinator)
    token = login(client, "office")
    url = f"{PAGE}/recommendations/4"
    page = client.get(url).text
    assert f'value="{PLAN}/US-T02"' in page
    # the link form offers the US plans' tasks only, and not those already linked
    offered = re.findall(r'<option value="([^"]+/[^"]+)"', page)
    assert offered and all(o.startswith("us-") for o in offered)
    assert not any(o.startswith("jp-") for o in offered)
    first = client.get(f"{PAGE}/recommendations/1").text
    assert f'<option value="{PLAN}/US-T01"' not in first  # linked already
    assert f'<option value="{PLAN}/US-T02"' in first
    done = client.post(
        f"{url}/respond",
        data={
            "csrf_token": token,
            "version": "1",
            "position": "partly_accept",
            "text": "In part",
            "on_date": "2024-07-01",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    stale = client.post(
        f"{url}/status",
        data={"csrf_token": token, "version": "1", "status": "partly_addressed"},
    )
    assert stale.status_code == 409 and "conflicts" in stale.text
    moved = client.post(
        f"{url}/status",
        data={
            "csrf_token": token,
            "version": "2",
            "status": "partly_addressed",
            "on_date": "2024-08-01",
            "benefit_amount": "1,000",
            "benefit_currency": "usd",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303
    linked = client.post(
        f"{url}/tasks",
        data={"csrf_token": token, "version": "3", "task": f"{PLAN}/US-T02"},
        follow_redirects=False,
    )
    assert linked.status_code == 303
    html = client.get(url).text
    assert "The task was linked." in html
    assert "1,000 USD" in html and "US-T02" in html
    assert "partly accepted" in html and "partly addressed" in html


def test_tracker_report_html_and_pdf(adv_db: Database, client: TestClient) -> None:
    html = client.get("/advisory/tracker").text
    assert "Advisory recommendations tracker" in html
    assert "1,500,000.50 USD" in html and "US-T01" in html and "<svg" in html
    pdf = client.get("/advisory/tracker.pdf?lang=zh")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert pdf.headers["content-type"] == "application/pdf"
