"""What a person sees, in English, Chinese and Japanese: overview, org chart, diagnosis, comparison.

Run alone with ``pytest -m e2e``; screenshots go to the pytest temporary directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from stcoord.institutions.mechanism_file import MechanismFile, parse_mechanism
from stcoord.reference import MECHANISMS_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
LANGS = ["en", "zh", "ja"]
WORDS = {
    "en": {
        "overview": "Coordination mechanisms",
        "supra": "Supra-ministerial",
        "diagnosis": "Diagnosis",
        "met": "met",
        "finding_2": "Unity of administrative and financial power",
        "compare": "Compare mechanisms",
        "side_by_side": "Evidence side by side",
        "chart": "Org chart",
    },
    "zh": {
        "overview": "协调机制",
        "supra": "部委之上",
        "diagnosis": "诊断",
        "met": "满足",
        "finding_2": "行政权与财权的统一",
        "compare": "比较协调机制",
        "side_by_side": "证据并列对照",
        "chart": "组织结构图",
    },
    "ja": {
        "overview": "調整メカニズム",
        "supra": "府省の上位",
        "diagnosis": "診断",
        "met": "満たす",
        "finding_2": "行政権限と財政権限の一体化",
        "compare": "調整メカニズムの比較",
        "side_by_side": "根拠の比較",
        "chart": "組織図",
    },
}


def reference(code: str) -> MechanismFile:
    path = MECHANISMS_DIR / f"{code.lower()}.yaml"
    return parse_mechanism(path.read_text(encoding="utf-8"), path.name)


def local(names: dict[str, str], fallback: str, lang: str) -> str:
    return names.get(lang) or fallback


def squeezed(text: str | None) -> str:
    """Text without whitespace: SVG labels wrap over several lines."""
    return "".join((text or "").split())


@pytest.mark.parametrize("lang", LANGS)
def test_overview(page: Page, lang: str, screenshots: Path) -> None:
    page.goto(f"/?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_have_text(WORDS[lang]["overview"])
    for code in ("US", "JP", "CN"):
        spec = reference(code).jurisdiction
        card = page.locator("li.card", has=page.locator(f'a[href="/mechanisms/{code}"]'))
        expect(card.get_by_role("heading", level=2)).to_contain_text(
            local(spec.names, spec.name, lang)
        )
        expect(card.get_by_role("link", name=WORDS[lang]["diagnosis"])).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    page.screenshot(path=screenshots / f"{lang}-overview.png")


@pytest.mark.parametrize("lang", LANGS)
def test_org_chart(page: Page, lang: str, screenshots: Path) -> None:
    spec = reference("JP")
    page.goto(f"/mechanisms/JP?lang={lang}")
    expect(page.get_by_role("heading", name=WORDS[lang]["chart"])).to_be_visible()
    chart = page.locator("svg.orgchart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.box")).to_have_count(len(spec.bodies))
    expect(chart.locator("g.legend")).to_contain_text(WORDS[lang]["supra"])
    csti = next(b for b in spec.bodies if b.key == "csti")
    node = chart.locator('a[data-key="csti"]')
    expect(node).to_be_visible()
    assert squeezed(local(csti.names, csti.name, lang)) in squeezed(node.text_content())
    page.screenshot(path=screenshots / f"{lang}-orgchart.png", full_page=True)
    node.click()
    expect(page).to_have_url(f"{page.url.split('/mechanisms')[0]}/mechanisms/JP/bodies/csti")
    expect(page.get_by_role("heading", level=1)).to_contain_text(local(csti.names, csti.name, lang))


@pytest.mark.parametrize("lang", LANGS)
def test_diagnosis_of_japan_for_ai(page: Page, lang: str, screenshots: Path) -> None:
    page.goto(f"/mechanisms/JP/diagnosis?field=ai&lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(WORDS[lang]["diagnosis"])
    findings = page.locator("article.finding")
    expect(findings).to_have_count(4)
    for i in range(4):
        finding = findings.nth(i)
        expect(finding.locator("header .verdict")).to_have_text(WORDS[lang]["met"])
        expect(finding.locator("ul.evidence").first).to_be_visible()
    expect(findings.nth(1).get_by_role("heading", level=2)).to_contain_text(
        WORDS[lang]["finding_2"]
    )
    page.screenshot(path=screenshots / f"{lang}-diagnosis.png")


@pytest.mark.parametrize("lang", LANGS)
def test_comparison(page: Page, lang: str, screenshots: Path) -> None:
    page.goto(f"/compare?codes=US&codes=JP&codes=CN&field=ai&lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_have_text(WORDS[lang]["compare"])
    table = page.locator("table.compare")
    expect(table).to_be_visible()
    headers = table.locator("thead th")
    for i, code in enumerate(("US", "JP", "CN"), start=1):
        spec = reference(code).jurisdiction
        expect(headers.nth(i)).to_have_text(local(spec.names, spec.name, lang))
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody .verdict")).to_have_count(12)
    expect(table.locator("tbody tr").nth(1)).to_contain_text(WORDS[lang]["finding_2"])
    expect(page.get_by_role("heading", name=WORDS[lang]["side_by_side"])).to_be_visible()
    page.screenshot(path=screenshots / f"{lang}-compare.png")


def test_filtering_the_bodies_table_updates_it_in_place(page: Page) -> None:
    page.goto("/mechanisms/JP?lang=en")
    rows = page.locator("#bodies tbody tr")
    before = rows.count()
    page.evaluate("window.__same_page = true")
    page.get_by_role("searchbox").fill("mext")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("MEXT")
    expect(page).to_have_url(re.compile(r"[?&]q=mext"))
    assert page.evaluate("window.__same_page === true")  # no reload: HTMX swapped the table
    page.get_by_label("Level").select_option("")
    page.get_by_role("searchbox").fill("")
    expect(rows).to_have_count(before)
