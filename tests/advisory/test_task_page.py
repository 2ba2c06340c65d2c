"""The plan task page lists the advisory recommendations the task carries out."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from stcoord.advisory import service
from stcoord.auth.permissions import POLICY, SYSTEM, Role, Scope
from stcoord.db.session import Database
from tests.advisory.conftest import PLAN, REPORT
from tests.helpers import QueryCounter

LINKED = f"/plans/{PLAN}/tasks/US-T01"
UNLINKED = f"/plans/{PLAN}/tasks/US-T02"


def advisory_section(html: str) -> str:
    match = re.search(r'<section id="advisory">(.*?)</section>', html, re.S)
    assert match is not None, "no advisory section on the task page"
    return match.group(1)


def rows_of(section: str) -> list[str]:
    return re.findall(r"<tr id=\"recommendation-.*?</tr>", section, re.S)


def test_linked_recommendation_is_listed_with_status_position_and_link(
    adv_db: Database, client: TestClient
) -> None:
    page = client.get(LINKED)
    assert page.status_code == 200
    section = advisory_section(page.text)
    assert "Advisory recommendations" in section
    rows = rows_of(section)
    assert len(rows) == 1
    row = unescape(rows[0])
    href = f'href="/advisory/reports/{REPORT}/recommendations/1"'
    assert row.count(href) == 2  # the number and the text both lead to the recommendation
    assert ">1</a>" in row
    assert "Fund AI research" in row
    assert "Demo report on AI research" in row and f"<code>{REPORT}</code>" in row
    assert "fully addressed" in row and "2025-01-15" in row  # status and its date
    assert "accepted" in row  # the government's position (latest response)
    assert "No advisory recommendation is linked" not in section
    # the link leads to the recommendation's own page
    assert client.get(f"/advisory/reports/{REPORT}/recommendations/1").status_code == 200


def test_several_links_in_report_order_without_extra_queries(
    adv_db: Database, client: TestClient
) -> None:
    client.get(LINKED)  # warm up (caches, lazy setup) before counting
    with QueryCounter(adv_db.engine) as one:
        client.get(LINKED)
    with adv_db.scope() as session:
        for number in ("3", "2"):
            service.link_task(
                session, SYSTEM, report_key=REPORT, number=number, plan_key=PLAN, task_code="US-T01"
            )
    with QueryCounter(adv_db.engine) as three:
        section = advisory_section(client.get(LINKED).text)
    numbers = re.findall(r'/recommendations/(\d+)">\d+</a>', section)
    assert numbers == ["1", "2", "3"]
    rows = [unescape(r) for r in rows_of(section)]
    assert "partly accepted" in rows[1] and "open" in rows[1]  # 2: partly accepted, open
    assert "rejected" in rows[2] and "Cap salaries" in rows[2]
    assert three.count == one.count  # the section costs the same however many rows it has


def test_unlinked_task_shows_the_empty_state(adv_db: Database, client: TestClient) -> None:
    page = client.get(UNLINKED)
    assert page.status_code == 200
    section = advisory_section(page.text)
    assert "No advisory recommendation is linked to this task." in section
    assert rows_of(section) == []


def test_headings_are_translated(adv_db: Database, client: TestClient) -> None:
    ja = advisory_section(client.get(f"{LINKED}?lang=ja").text)
    assert "<h2>諮問機関の提言</h2>" in ja
    assert "Advisory recommendations" not in ja
    assert "完全に対応済み" in ja and "採用" in ja  # fully addressed; accepted
    zh = advisory_section(client.get(f"{UNLINKED}?lang=zh").text)
    assert "<h2>咨询机构建议</h2>" in zh and "此任务未关联任何咨询机构建议。" in zh


def test_readers_without_advisory_access_see_the_page_without_the_section(
    adv_db: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Today everyone may read advisory data; should that narrow, plan readers keep the page.
    monkeypatch.setitem(POLICY, "advisory.read", {Role.admin: Scope.ALL})
    page = client.get(LINKED)  # anonymous
    assert page.status_code == 200
    assert 'id="advisory"' not in page.text
    assert "Fund AI research" not in page.text
    assert 'id="milestones"' in page.text
