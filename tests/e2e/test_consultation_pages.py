"""A participant on a phone: register with a sector, vote on statements with HTMX, in Japanese,
without sideways scrolling; the office then sees the vote on the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from stcoord.auth.models import User
from stcoord.auth.permissions import SYSTEM, Role
from stcoord.auth.service import create_user
from stcoord.consultation import service
from stcoord.consultation.models import Participant, Statement, Vote
from stcoord.db.session import Database
from stcoord.plans import service as plans

pytestmark = [pytest.mark.e2e]
PHONE = {"width": 390, "height": 844}
KEY = "phone-conversation"


@pytest.fixture(scope="module")
def conversation(e2e_database: Database) -> str:
    with e2e_database.scope() as session:
        plans.open_plan(
            session, SYSTEM, code="JP", template_key="basic_plan_6", key="e2e-plan", title="Plan"
        )
        service.create_consultation(
            session, SYSTEM, key=KEY, plan_key="e2e-plan", kind="conversation", title="対話"
        )
        service.register(session, SYSTEM, key=KEY, sector="academia", handle="seed")
        for text in ("大学の研究費を増やすべきだ", "産学連携の窓口を一本化すべきだ"):
            service.add_statement(session, SYSTEM, key=KEY, text=text, participant="seed")
        create_user(
            session, SYSTEM, username="phone-user", password="long-enough-pw", role=Role.stakeholder
        )
    return KEY


def test_a_stakeholder_votes_from_a_phone(
    browser: Browser, base_url: str, conversation: str, e2e_database: Database, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=PHONE, base_url=base_url, is_mobile=True)
    try:
        page = context.new_page()
        page.goto("/login?lang=ja")
        page.locator("input[name=username]").fill("phone-user")
        page.locator("input[name=password]").fill("long-enough-pw")
        page.locator("form button[type=submit]").click()
        page.goto(f"/consultations/{conversation}?lang=ja")
        page.locator("select[name=sector]").select_option("industry")
        page.locator("input[name=organisation]").fill("Example KK")
        page.locator("form[action$='/register'] button[type=submit]").click()
        card = page.locator("article#s1")
        expect(card).to_contain_text("大学の研究費を増やすべきだ")
        card.locator("button.agree").click()  # HTMX swaps the card in place
        expect(page.locator("article#s1 button.agree")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("article#s1 .cs-tally")).to_contain_text("1")
        page.locator("article#s2 button.disagree").click()
        expect(page.locator("article#s2 button.disagree")).to_have_attribute("aria-pressed", "true")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
        page.screenshot(path=tmp_path / "ja-phone-vote.png", full_page=True)
    finally:
        context.close()
    with e2e_database.scope(write=False) as session:
        rows = session.execute(
            select(Statement.number, Vote.value, Participant.sector, Participant.organisation)
            .join(Vote, Vote.statement_id == Statement.id)
            .join(Participant, Participant.id == Vote.participant_id)
            .join(User, User.id == Participant.user_id)
            .where(User.username == "phone-user")
            .order_by(Statement.number)
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, 1, "industry", "Example KK"),
        (2, -1, "industry", "Example KK"),
    ]
