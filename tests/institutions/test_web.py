"""HTML pages of the mechanism registry on both databases, and the translation catalogues."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from stcoord.auth.permissions import SYSTEM, Role
from stcoord.db.session import Database
from stcoord.institutions import service
from stcoord.institutions.mechanism_file import parse_mechanism
from stcoord.institutions.models import Jurisdiction
from stcoord.web.i18n import LOCALE_DIR, merged_catalog
from tests.conftest import fixture_text
from tests.helpers import login, make_user

MINI = fixture_text("mini.yaml")
CSTI_JA = "総合科学技術・イノベーション会議"


def load_xa(db: Database) -> None:
    with db.scope() as session:
        service.load_mechanism(session, SYSTEM, parse_mechanism(MINI))


@pytest.fixture
def xa(db: Database, client: TestClient) -> TestClient:
    """A client on a database that also holds the fictional mechanism XA."""
    load_xa(db)
    return client


def sign_in(
    db: Database, client: TestClient, role: Role, bodies: list[tuple[str, str]] | None = None
) -> str:
    username = f"{role.value}-{len(bodies or [])}"
    make_user(db, username, role, bodies)
    return login(client, username)


def bodies_table(html: str) -> str:
    return html[html.index('id="bodies"') : html.index('<section id="procedures"')]


def text_of(html: str) -> str:
    """Roughly what a person reads: tags dropped, whitespace squeezed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# ---------------------------------------------------------------- overview


def test_overview_lists_jurisdictions_with_counts_and_links(client: TestClient) -> None:
    response = client.get("/?lang=en")
    assert response.status_code == 200
    page = response.text
    for code in ("US", "JP", "CN"):
        assert f'href="/mechanisms/{code}"' in page
        assert f'href="/mechanisms/{code}/diagnosis"' in page
    assert "Coordination mechanisms" in page
    assert "/compare?" in page


def test_overview_in_japanese_and_chinese(client: TestClient) -> None:
    assert "調整メカニズム" in client.get("/?lang=ja").text
    assert "日本" in client.get("/?lang=ja").text
    page = client.get("/?lang=zh").text
    assert "协调机制" in page and "日本" in page


def test_overview_empty_state(db: Database, client: TestClient) -> None:
    with db.scope() as session:
        session.execute(delete(Jurisdiction))
    page = client.get("/?lang=en").text
    assert "No mechanisms loaded yet." in page
    assert 'href="/mechanisms/' not in page.replace('href="/mechanisms/load"', "")


# ---------------------------------------------------------------- mechanism page


def test_mechanism_page_has_org_chart_fields_bodies_and_procedures(xa: TestClient) -> None:
    response = xa.get("/mechanisms/XA?lang=en")
    assert response.status_code == 200
    page = response.text
    assert page.count('class="box"') == 6  # one box per body
    assert 'class="legend"' in page
    assert 'href="/mechanisms/XA/bodies/council"' in page
    assert 'href="/api/v1/mechanisms/XA/export"' in page
    assert 'href="/mechanisms/XA/diagnosis?field=ai"' in page
    assert 'href="/mechanisms/XA/diagnosis?field=quantum"' in page
    stages = [page.index(f'id="stage-ai_plan-{k}"') for k in ("consult", "draft", "decide")]
    assert stages == sorted(stages)  # in their order
    assert "Request for information" in page  # the rfi channel, translated
    assert "Decision by the body" in page  # a gate


def test_mechanism_page_shows_local_names(xa: TestClient) -> None:
    page = xa.get("/mechanisms/XA?lang=ja").text
    assert "アトランティス" in page and "科学会議" in page
    assert "組織図" in page


def test_japan_page_in_japanese_names_csti(client: TestClient) -> None:
    page = client.get("/mechanisms/JP?lang=ja").text
    assert CSTI_JA in page
    assert "調整メカニズム" in page


@pytest.mark.parametrize(
    "url", ["/mechanisms/ZZ", "/mechanisms/XA/bodies/nope", "/mechanisms/ZZ/diagnosis"]
)
def test_unknown_code_or_body_is_a_404_page(xa: TestClient, url: str) -> None:
    response = xa.get(url + "?lang=en")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Not found" in response.text


def test_bodies_table_filters_sorts_and_pages(xa: TestClient) -> None:
    page = xa.get("/mechanisms/XA?level=ministerial&lang=en").text
    table = bodies_table(page)
    assert "Ministry of Finance" in table and "Science Council" not in table
    page = xa.get("/mechanisms/XA?q=research&lang=en").text
    table = text_of(bodies_table(page))
    assert "Ministry of Research" in table and "Research Agency" in table
    assert "Showing 1–2 of 2 bodies" in table
    page = xa.get("/mechanisms/XA?sort=-name&limit=2&lang=en").text
    table = bodies_table(page)
    assert table.index("Science Council") < table.index("Research Agency")
    assert "Page 1 of 3" in table and "offset=2" in table


def test_bodies_table_answers_htmx_with_the_fragment_only(xa: TestClient) -> None:
    response = xa.get(
        "/mechanisms/XA?kind=ministry&lang=en",
        headers={"HX-Request": "true", "HX-Target": "bodies"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="bodies"')
    assert "<html" not in response.text and "Ministry of Finance" in response.text
    assert "Head of Government" not in response.text


def test_bodies_csv_honours_the_filters(xa: TestClient) -> None:
    response = xa.get("/mechanisms/XA/bodies.csv?level=ministerial&sort=-name&lang=ja")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "xa-bodies.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["key"] for r in rows] == ["research", "finance"]
    assert rows[0]["level"] == "ministerial"
    everything = xa.get("/mechanisms/XA/bodies.csv?lang=ja").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(everything)))
    assert len(rows) == 6
    council = next(r for r in rows if r["key"] == "council")
    assert (council["local_name"], council["short_name"], council["parent"]) == (
        "科学会議",
        "SC",
        "head",
    )
    assert council["seats"] == "6"


# ---------------------------------------------------------------- body page


def test_body_page_shows_seats_rules_mandates_and_relations(xa: TestClient) -> None:
    response = xa.get("/mechanisms/XA/bodies/council?lang=en")
    assert response.status_code == 200
    page = text_of(response.text)
    for expected in (
        "Budget authority",
        "Finance Minister",
        "Expert (academia)",
        "members <= 6",
        "experts >= half of members",
        "holds",
        "Consensus, then the chair decides",
        "chair + majority of members",
        "Resource allocation policy",
        "AI Expert Panel",  # advises the council, and is its child
        "2001-01-06",
    ):
        assert expected in page, expected
    assert 'href="/mechanisms/XA/bodies/finance"' in response.text  # the holder body
    assert 'href="/mechanisms/XA/bodies/head"' in response.text  # the parent
    assert "Edit this body" not in page  # anonymous gets no form


def test_body_page_marks_unverified_facts(db: Database, xa: TestClient) -> None:
    text = MINI.replace(
        "    name: Ministry of Finance\n", "    name: Ministry of Finance\n    unverified: true\n"
    )
    with db.scope() as session:
        service.load_mechanism(session, SYSTEM, parse_mechanism(text))
    assert "unverified" in xa.get("/mechanisms/XA/bodies/finance?lang=en").text
    assert "未確認" in xa.get("/mechanisms/XA/bodies/finance?lang=ja").text


def _form_version(html: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no edit form"
    return int(match.group(1))


def test_coordinator_edits_a_body_and_sees_a_message(db: Database, xa: TestClient) -> None:
    csrf = sign_in(db, xa, Role.coordinator)
    page = xa.get("/mechanisms/XA/bodies/council?lang=en").text
    assert "Edit this body" in page
    form = {
        "csrf_token": csrf,
        "version": str(_form_version(page)),
        "name": "Supreme Science Council",
        "short_name": "SSC",
        "legal_basis": "Science Act, Art. 1",
        "description": "",
        "note": "checked by the office",
    }
    response = xa.post("/mechanisms/XA/bodies/council", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/mechanisms/XA/bodies/council"
    page = xa.get("/mechanisms/XA/bodies/council?lang=en").text
    assert "Your changes were saved." in page
    assert "Supreme Science Council" in page and "Science Act, Art. 1" in page
    assert "Your changes were saved." not in xa.get("/mechanisms/XA/bodies/council").text


def test_stale_version_shows_the_conflict_and_keeps_the_typing(
    db: Database, xa: TestClient
) -> None:
    csrf = sign_in(db, xa, Role.coordinator)
    version = _form_version(xa.get("/mechanisms/XA/bodies/council").text)
    first = {"csrf_token": csrf, "version": str(version), "name": "Council A", "note": "first"}
    assert (
        xa.post("/mechanisms/XA/bodies/council", data=first, follow_redirects=False).status_code
        == 303
    )
    second = {"csrf_token": csrf, "version": str(version), "name": "Council B", "note": "mine"}
    response = xa.post("/mechanisms/XA/bodies/council?lang=en", data=second, follow_redirects=False)
    assert response.status_code == 409
    page = response.text
    assert "Someone else changed this body while you were editing." in page
    assert 'value="Council B"' in page and "mine" in page  # nothing typed is lost
    assert "Stored now" in page and "Council A" in page  # the current values are shown
    assert _form_version(page) == version + 1  # saving again is a deliberate overwrite
    with db.scope(write=False) as session:
        assert service.get_body(session, SYSTEM, "XA", "council").name == "Council A"


def test_liaison_of_another_body_gets_403(db: Database, xa: TestClient) -> None:
    csrf = sign_in(db, xa, Role.liaison, [("XA", "finance")])
    assert "Edit this body" not in xa.get("/mechanisms/XA/bodies/council?lang=en").text
    assert "Edit this body" in xa.get("/mechanisms/XA/bodies/finance?lang=en").text
    form = {"csrf_token": csrf, "version": "1", "name": "Taken over"}
    response = xa.post("/mechanisms/XA/bodies/council", data=form, follow_redirects=False)
    assert response.status_code == 403
    with db.scope(write=False) as session:
        assert service.get_body(session, SYSTEM, "XA", "council").name == "Science Council"


def test_empty_name_is_refused_with_the_form_kept(db: Database, xa: TestClient) -> None:
    csrf = sign_in(db, xa, Role.coordinator)
    version = _form_version(xa.get("/mechanisms/XA/bodies/council").text)
    form = {"csrf_token": csrf, "version": str(version), "name": " ", "note": "keep me"}
    response = xa.post("/mechanisms/XA/bodies/council?lang=en", data=form)
    assert response.status_code == 422
    assert "The changes were not saved." in response.text and "keep me" in response.text


# ---------------------------------------------------------------- diagnosis and comparison


def test_diagnosis_page_shows_four_findings_with_evidence_links(xa: TestClient) -> None:
    response = xa.get("/mechanisms/XA/diagnosis?field=ai&lang=en")
    assert response.status_code == 200
    page = response.text
    for n in (1, 2, 3, 4):
        assert f'id="finding-{n}"' in page
    assert page.count('class="verdict verdict-') >= 8  # summary table and each finding
    assert "Unity of administrative and financial power" in page
    assert 'href="/mechanisms/XA/bodies/council#mandates"' in page  # evidence path -> body
    assert 'href="/mechanisms/XA#stage-ai_plan-consult"' in page  # evidence path -> stage
    assert '<option value="quantum"' in page  # the field picker
    assert "Composition and decision-rule checks" in page


def test_diagnosis_defaults_to_ai_and_translates_verdicts(client: TestClient) -> None:
    page = client.get("/mechanisms/JP/diagnosis?lang=ja").text
    assert '<option value="ai" selected>' in page
    assert "満たす" in page and "行政権限と財政権限の一体化" in page
    page = client.get("/mechanisms/JP/diagnosis?field=ai&lang=zh").text
    assert "满足" in page and "行政权与财权的统一" in page


def test_diagnosis_sentences_are_translated_with_local_body_names(client: TestClient) -> None:
    page = unescape(client.get("/mechanisms/JP/diagnosis?field=ai&lang=ja").text)
    evidence = page[page.index('id="finding-1"') : page.index('id="finding-2"')]
    # "CSTI (supra_ministerial)" becomes the Japanese name with the translated level
    assert f"{CSTI_JA}（府省の上位）" in evidence, evidence[:2000]
    assert "（全分野）" in evidence and "all fields" not in evidence
    assert 'class="text" lang="en"' not in page
    zh = unescape(client.get("/mechanisms/US/diagnosis?field=ai&lang=zh").text)
    assert "预算主管部门参与其中" in zh  # OMB's seat on NSTC, the reason in Chinese
    english = unescape(client.get("/mechanisms/US/diagnosis?field=ai&lang=en").text)
    assert "budget authority at the table" in english


def test_compare_page_puts_findings_against_jurisdictions(client: TestClient) -> None:
    response = client.get("/compare?codes=US&codes=JP&codes=CN&field=ai&lang=en")
    assert response.status_code == 200
    page = response.text
    header = page[page.index('<table class="data compare">') : page.index("</thead>")]
    assert (
        header.index("/mechanisms/US/")
        < header.index("/mechanisms/JP/")
        < header.index("/mechanisms/CN/")
    )
    assert "Evidence side by side" in page
    assert page.count('class="side-by-side cols-3"') == 4


def test_compare_needs_two_or_three_and_knows_the_codes(client: TestClient) -> None:
    page = client.get("/compare?codes=JP&lang=en").text
    assert "Pick two or three jurisdictions to compare." in page
    assert client.get("/compare?codes=JP&codes=ZZ").status_code == 404
    page = client.get("/compare?lang=en").text  # defaults to the first three
    assert page.count(" checked>") == 3 and "Evidence side by side" in page


# ---------------------------------------------------------------- loading a file


def test_anonymous_load_page_redirects_to_login(client: TestClient) -> None:
    response = client.get("/mechanisms/load", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/mechanisms/load")


def test_loading_a_good_file_creates_the_mechanism(db: Database, client: TestClient) -> None:
    csrf = sign_in(db, client, Role.coordinator)
    assert 'type="file"' in client.get("/mechanisms/load").text
    files = {"file": ("mini.yaml", MINI.encode(), "application/yaml")}
    response = client.post("/mechanisms/load?lang=en", data={"csrf_token": csrf}, files=files)
    assert response.status_code == 200
    assert "Created the mechanism XA." in response.text
    assert client.get("/mechanisms/XA").status_code == 200
    again = client.post("/mechanisms/load?lang=en", data={"csrf_token": csrf}, files=files)
    assert "Nothing changed" in again.text


def test_loading_a_bad_file_lists_every_problem_and_writes_nothing(
    db: Database, client: TestClient
) -> None:
    csrf = sign_in(db, client, Role.coordinator)
    bad = MINI.replace("title: Academic expert, count: 2}", "title: Academic expert, count: lots}")
    bad = bad.replace("kind: expert_panel", "kind: oracle")
    files = {"file": ("korea.yaml", bad.encode(), "application/yaml")}
    response = client.post("/mechanisms/load?lang=en", data={"csrf_token": csrf}, files=files)
    assert response.status_code == 422
    page = response.text
    line_of = {needle: 1 + bad[: bad.index(needle)].count("\n") for needle in ("lots", "oracle")}
    for line in line_of.values():
        assert f"korea.yaml:{line}" in page
    assert "2 problems in korea.yaml; nothing was saved." in page
    with db.scope(write=False) as session:
        assert session.scalar(select(func.count()).where(Jurisdiction.code == "XA")) == 0


def test_viewer_may_not_load(db: Database, client: TestClient) -> None:
    sign_in(db, client, Role.viewer)
    assert client.get("/mechanisms/load", follow_redirects=False).status_code == 403


# ---------------------------------------------------------------- language


def test_language_switch_is_remembered(client: TestClient) -> None:
    page = client.get("/?lang=zh").text
    assert '<html lang="zh">' in page and "协调机制" in page
    page = client.get("/").text  # the cookie keeps the choice
    assert '<html lang="zh">' in page
    assert 'href="/?lang=ja"' in page  # the switch links to the same page
    assert "調整メカニズム" in client.get("/?lang=ja").text
    assert '<html lang="en">' in client.get("/?lang=en").text


def test_login_page_still_works(client: TestClient) -> None:
    page = client.get("/login?lang=ja").text
    assert "サインイン" in page and 'name="csrf_token"' in page


# ---------------------------------------------------------------- catalogues

POT = LOCALE_DIR / "messages.pot"


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_every_message_has_a_translation(lang: str) -> None:
    template = _catalog(POT)
    catalog = merged_catalog(lang)
    assert catalog is not None
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = translated.string if translated is not None else None
        values = strings if isinstance(strings, tuple) else (strings,)
        if translated is None or not all(values) or translated.fuzzy:
            problems.append(message.id)
    assert not problems, f"untranslated or fuzzy in {lang}: {problems}"
    errors = [(m.id, e) for m, errs in catalog.check() for e in errs]
    assert not errors, errors  # e.g. a python-format placeholder lost in translation


def test_every_vocabulary_word_has_a_translatable_label() -> None:
    from stcoord.analytics import vocabulary as v
    from stcoord.institutions.pages import TERMS

    groups = {
        "level": v.Level,
        "kind": v.BodyKind,
        "role": v.SeatRole,
        "holder_type": v.HolderType,
        "affair": v.Affair,
        "power": v.Power,
        "relation": v.RelationType,
        "channel": v.Channel,
        "decision": v.DecisionRuleKind,
        "gate": v.GateKind,
    }
    missing = [f"{g}.{m.value}" for g, enum in groups.items() for m in enum if m not in TERMS[g]]
    assert not missing, f"add these to TERMS in institutions/pages.py: {missing}"


def test_pot_holds_every_message_of_the_sources() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = Path(__file__).resolve().parents[2]
    mapping = (root / "babel.cfg").read_text(encoding="utf-8")
    method_map, options_map = parse_mapping_cfg(io.StringIO(mapping))
    found = {
        message[0] if isinstance(message, tuple) else message
        for _, _, message, _, _ in extract_from_dir(
            str(root / "src" / "stcoord"), method_map, options_map
        )
    }
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in _catalog(POT) if m.id}
    assert not found - known, f"run make messages: new messages {sorted(found - known)}"
