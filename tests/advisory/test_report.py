"""The advisory tracker report: data, chart spec, HTML and a CJK PDF."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from stcoord.advisory import pages, tracker
from stcoord.advisory.service import TrackerFilter
from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database
from tests.advisory.conftest import REPORT

PDFTOTEXT = shutil.which("pdftotext")


def test_tracker_data_groups_by_body_and_report(adv_db: Database) -> None:
    with adv_db.scope() as session:
        data = tracker.tracker_data(session, SYSTEM, TrackerFilter(jurisdiction="US"))
        (pcast,) = data.bodies
        assert (pcast.code, pcast.key, pcast.body.short_name if pcast.body else None) == (
            "US",
            "pcast",
            "PCAST",
        )
        assert pcast.benefits == {"USD": Decimal("1500000.50")}
        assert [s.report.key for s in pcast.reports] == [REPORT]
        assert data.total == 4
        assert tracker.tracker_data(session, SYSTEM, TrackerFilter(jurisdiction="JP")).bodies == []


def test_chart_stacks_each_body_by_position(adv_db: Database) -> None:
    with adv_db.scope() as session:
        data = tracker.tracker_data(session, SYSTEM)
    spec = pages.chart_for(data.bodies, "ja")
    values = spec["data"]["values"]
    assert [(v["position"], v["count"], v["share"]) for v in values] == [
        ("accept", 1, 0.25),
        ("partly_accept", 1, 0.25),
        ("under_consideration", 0, 0.0),
        ("reject", 1, 0.25),
        ("none", 1, 0.25),
    ]
    assert values[0]["label"] == "採用" and values[0]["body"] == "US PCAST (n=4)"
    assert spec["config"]["font"] == "Noto Sans CJK JP"
    assert spec["encoding"]["x"]["axis"]["title"] == "提言の割合"


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils (pdftotext) is not installed")
def test_pdf_in_japanese_and_chinese(adv_db: Database, tmp_path: Path) -> None:
    with adv_db.scope() as session:
        html = pages.tracker_html(session, SYSTEM, "zh")
        assert "咨询建议跟踪" in html and "采纳率" in html
        pdfs = {lang: pages.build_tracker_pdf(session, SYSTEM, lang) for lang in ("ja", "zh")}
    for lang, words in (("ja", ["諮問機関の提言フォローアップ", "採択率"]), ("zh", ["采纳率"])):
        path = tmp_path / f"{lang}.pdf"
        path.write_bytes(pdfs[lang])
        out = subprocess.run(
            [str(PDFTOTEXT), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        )
        text = "".join(out.stdout.decode("utf-8").split())
        for word in words:  # CJK glyphs, not boxes
            assert word in text
        assert "FundAIresearch" in text and "1,500,000.50USD" in text and "US-T01" in text


def test_long_trackers_list_a_capped_number_of_rows(adv_db: Database) -> None:
    with adv_db.scope() as session:
        html = pages.tracker_html(session, SYSTEM, "en", max_rows=3)
    assert html.count("<tr>\n      <td>") == 3 + 1  # three recommendations and the adoption row
    assert "1 more recommendations are not listed here" in html
    assert ">4</td>" in html  # the adoption table still counts all four
