"""Pages: a participant takes part on a phone-sized page (register, comment on a section, write a
statement, vote with HTMX, rate in a Delphi round); the office watches the dashboard, moderates,
answers comments; the two reports come out as HTML and PDF with CJK text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stcoord.auth.permissions import SYSTEM
from stcoord.consultation import delphi, service
from stcoord.db.session import Database
from tests.consultation.conftest import KEY, PLAN, conversation
from tests.helpers import login

PDFTOTEXT = shutil.which("pdftotext")


def _post(client: TestClient, url: str, token: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def test_a_participant_takes_part_from_a_phone(cdb: Database, client: TestClient) -> None:
    page = client.get(f"/consultations/{KEY}")
    assert page.status_code == 200
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page.text
    assert "Sign in to take part" in page.text
    assert "Build national compute." in page.text  # the draft's sections are shown
    token = login(client, "ind")
    r = _post(
        client,
        f"/consultations/{KEY}/register",
        token,
        sector="industry",
        organisation="Atlantis Robotics",
    )
    assert r.status_code == 303
    page = client.get(f"/consultations/{KEY}").text
    assert (
        "You are registered" in page
        and "You take part as ind (Industry, Atlantis Robotics)." in page
    )
    r = _post(
        client,
        f"/consultations/{KEY}/comments",
        token,
        text="Name the supercomputer.",
        section="s1",
    )
    assert r.status_code == 303
    page = client.get(f"/consultations/{KEY}").text
    assert (
        "<strong>Compute</strong>: Name the supercomputer." in page and "awaiting an answer" in page
    )
    refused = _post(client, f"/consultations/{KEY}/statements", token, text="   ")
    assert refused.status_code == 422
    assert "Not saved. Nothing was changed." in refused.text and "must not be empty" in refused.text
    assert (
        _post(client, f"/consultations/{KEY}/statements", token, text="More compute").status_code
        == 303
    )
    vote = client.post(
        f"/consultations/{KEY}/statements/1/vote",
        data={"csrf_token": token, "value": "1"},
        headers={"hx-request": "true"},
    )
    assert vote.status_code == 200
    assert "<html" not in vote.text  # a fragment HTMX swaps in
    assert 'class="agree" name="value" value="1" aria-pressed="true"' in vote.text
    assert "1 agree · 0 disagree · 0 pass" in vote.text
    changed = client.post(
        f"/consultations/{KEY}/statements/1/vote",
        data={"csrf_token": token, "value": "0"},
        headers={"hx-request": "true"},
    )
    assert "0 agree · 0 disagree · 1 pass" in changed.text
    # the card drawn from the vote's own transaction is the one the page draws from the database
    page = client.get(f"/consultations/{KEY}").text
    card = re.search(r'<article class="cs-statement" id="s1">.*?</article>', page, re.S)
    assert card is not None and " ".join(card.group(0).split()) == " ".join(changed.text.split())
    # without JavaScript the same form posts and redirects back to the statement
    r = _post(client, f"/consultations/{KEY}/statements/1/vote", token, value="-1")
    assert r.status_code == 303 and r.headers["location"].endswith("#s1")
    # the office's pages are not for stakeholders
    assert client.get(f"/consultations/{KEY}/dashboard").status_code == 403
    assert client.get(f"/consultations/{KEY}/dispositions").status_code == 403


def test_the_office_watches_moderates_and_answers(cdb: Database, client: TestClient) -> None:
    conversation(cdb)
    with cdb.scope() as session:
        service.add_comment(
            session,
            SYSTEM,
            key=KEY,
            text="Add a chapter on chips",
            participant="p1",
            section_key="s2",
        )
        service.add_comment(session, SYSTEM, key=KEY, text="You fools", participant="p12")
    token = login(client, "office")
    page = client.get(f"/consultations/{KEY}/dashboard")
    assert page.status_code == 200
    text = page.text
    assert 'id="chart-participants"' in text and "<svg" in text
    assert "Group A: 10 participants" in text and "Group B: 10 participants" in text
    assert "Publish the plan&#39;s evidence" in text  # the consensus statement
    assert "2 comment(s) have no official disposition yet" in text
    live = client.get(f"/consultations/{KEY}/dashboard", headers={"hx-request": "true"})
    assert live.text.lstrip().startswith('<div id="live"') and "<html" not in live.text
    # the gate's unmet conditions are worded in the page's language, as on the plan pages
    ja = client.get(f"/consultations/{KEY}/dashboard?lang=ja").text
    assert "2 件の意見にまだ公式の回答がありません" in ja
    assert "comment(s) have no official disposition yet" not in ja
    client.get(f"/consultations/{KEY}/dashboard?lang=en")  # the choice is remembered: back

    r = _post(
        client,
        f"/consultations/{KEY}/moderation",
        token,
        target="comment",
        id="2",
        hidden="1",
        reason="",
    )
    assert r.status_code == 422 and "hiding needs a reason" in r.text
    r = _post(
        client,
        f"/consultations/{KEY}/moderation",
        token,
        target="comment",
        id="2",
        hidden="1",
        reason="insult",
    )
    assert r.status_code == 303
    assert "hidden: insult</span>" in client.get(f"/consultations/{KEY}/moderation").text

    page = client.get(f"/consultations/{KEY}/dispositions?answered=no&sort=-id").text
    assert "2 comments are still unanswered." in page
    assert page.index('id="c2"') < page.index('id="c1"')
    for cid, outcome, reason in (
        (1, "adopted", "A chapter on chips was added"),
        (2, "out_of_scope", "Not a comment on the plan"),
    ):
        r = _post(
            client,
            f"/consultations/{KEY}/comments/{cid}/disposition",
            token,
            outcome=outcome,
            reason=reason,
        )
        assert r.status_code == 303
    assert (
        "0 comments are still unanswered." in client.get(f"/consultations/{KEY}/dispositions").text
    )
    r = _post(
        client, f"/consultations/{KEY}/comments/1/disposition", token, outcome="adopted", reason=" "
    )
    assert r.status_code == 422 and "every disposition needs a reason" in r.text

    result = client.get(f"/consultations/{KEY}/reports/result").text
    assert (
        "A chapter on chips was added" in result and "Withheld by the moderator: insult" in result
    )
    assert "You fools" not in result
    summary = client.get(f"/consultations/{KEY}/reports/summary?lang=en").text
    assert "Group A: 10 participants" in summary and "計算資源を増やす" in summary
    pdf = client.get(f"/consultations/{KEY}/reports/summary.pdf?lang=ja")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert f"{KEY}-summary-ja.pdf" in pdf.headers["content-disposition"]
    listing = client.get(f"/consultations?plan={PLAN}&sort=-participants").text
    assert f'href="/consultations/{KEY}"' in listing and "format=xlsx" in listing


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils (pdftotext) is not installed")
def test_report_pdfs_carry_cjk_text(cdb: Database, client: TestClient, tmp_path: Path) -> None:
    conversation(cdb)
    with cdb.scope() as session:
        service.add_comment(session, SYSTEM, key=KEY, text="データを公開する", participant="p3")
    path = tmp_path / "r.pdf"
    path.write_bytes(client.get(f"/consultations/{KEY}/reports/result.pdf?lang=ja").content)
    out = subprocess.run(
        [str(PDFTOTEXT), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    text = "".join(out.stdout.decode("utf-8").split())
    assert "データを公開する" in text  # CJK glyphs, not boxes
    path.write_bytes(client.get(f"/consultations/{KEY}/reports/summary.pdf?lang=ja").content)
    out = subprocess.run(
        [str(PDFTOTEXT), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    assert "計算資源を増やす" in "".join(out.stdout.decode("utf-8").split())


def test_rating_in_a_delphi_round_with_feedback(cdb: Database, client: TestClient) -> None:
    with cdb.scope() as session:
        service.create_consultation(
            session,
            SYSTEM,
            key="xa-d",
            plan_key=PLAN,
            kind="delphi",
            title="Delphi",
            channels=["academia"],
        )
        service.register(session, SYSTEM, key="xa-d", sector="academia", handle="e1")
        service.add_statement(session, SYSTEM, key="xa-d", text="Robotics", participant="e1")
        service.add_statement(session, SYSTEM, key="xa-d", text="Quantum", participant="e1")
        delphi.open_round(session, SYSTEM, key="xa-d")
        delphi.rate(session, SYSTEM, key="xa-d", statement=1, value=6, participant="e1")
        delphi.rate(session, SYSTEM, key="xa-d", statement=2, value=2, participant="e1")
    token = login(client, "aca")
    _post(client, "/consultations/xa-d/register", token, sector="academia", organisation="U")
    r = _post(
        client, "/consultations/xa-d/delphi/ratings", token, **{"rating-1": "8", "rating-2": "abc"}
    )
    assert r.status_code == 422 and "not a number" in r.text
    r = _post(
        client,
        "/consultations/xa-d/delphi/ratings",
        token,
        **{"rating-1": "8", "rating-2": "4", "why-1": "data"},
    )
    assert r.status_code == 303
    assert (
        _post(client, "/consultations/xa-d/delphi/rounds", token, action="close").status_code == 403
    )
    with cdb.scope() as session:
        delphi.close_round(session, SYSTEM, key="xa-d")
        delphi.open_round(session, SYSTEM, key="xa-d")
    page = client.get("/consultations/xa-d/delphi").text
    assert "Round 2" in page
    # round 1: statement 1 rated 6 and 8 -> median 7, quartiles 6.5-7.5
    assert "Last round: median 7.0, quartiles 6.5–7.5 (2 ratings). Your rating: 8.0." in page
