"""The plan dossier and the progress report (HTML and PDF) and the chart specs behind them."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stcoord.auth.permissions import SYSTEM
from stcoord.db.session import Database
from stcoord.plans import reports
from stcoord.plans.pages import build_dossier_pdf, build_progress_pdf, dossier_html
from stcoord.reports import charts, pdf
from tests.plans.conftest import PLAN
from tests.plans.test_web import TODAY, build, section, text_of

D = dt.date
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def xa(plan_db: Database, client: TestClient) -> TestClient:
    build(plan_db)
    return client


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    done = subprocess.run(
        [str(PDFTOTEXT), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


# ---------------------------------------------------------------- HTML


def test_dossier_html_has_every_section(xa: TestClient) -> None:
    response = xa.get(f"/plans/{PLAN}/reports/dossier?lang=en&today={TODAY}")
    assert response.status_code == 200
    page = response.text
    for part in ("summary", "stages", "decisions", "drafts", "goals", "alignment", "timeline"):
        assert f'id="{part}"' in page, part
    assert "Atlantis AI plan" in page and "Plan dossier" in page
    stages = section(page, "stages")
    assert "<svg" in stages  # planned vs actual dates, inline
    assert "No input yet from: Industry, Academia" in text_of(stages)
    assert "Interagency draft" in stages
    assert "Second" in section(page, "drafts")
    goals = text_of(section(page, "goals"))
    assert "G1 Lead in AI" in goals and "late" in goals
    alignment = text_of(section(page, "alignment"))
    assert "No budget link" in alignment and "Research Agency" in alignment
    assert 'href="/plans/xa-ai/reports/dossier.pdf?lang=en"' in page


def test_dossier_lists_decisions_with_their_quorum_report(
    plan_db: Database, xa: TestClient
) -> None:
    from tests.plans.conftest import QUORATE

    with plan_db.scope() as session:
        service_args = {"session": session, "actor": SYSTEM, "plan_key": PLAN}
        from stcoord.plans import service

        service.record_decision(
            **service_args,
            body="council",
            on_date=D(2024, 2, 1),
            attendees=QUORATE,
            outcome="approved",
            consensus=True,
        )
    decisions = text_of(section(xa.get(f"/plans/{PLAN}/reports/dossier?lang=en").text, "decisions"))
    assert "2024-02-01" in decisions and "Science Council" in decisions and "approved" in decisions
    assert "chair: 1 present, 1 needed (met)" in decisions


def test_progress_html_has_charts_tasks_and_what_is_late(xa: TestClient) -> None:
    response = xa.get(f"/plans/{PLAN}/reports/progress?lang=en&today={TODAY}")
    assert response.status_code == 200
    page = response.text
    for part in ("overall", "goals", "late", "tasks", "indicators"):
        assert f'id="{part}"' in page, part
    assert "<svg" in section(page, "goals")  # progress by goal
    late = text_of(section(page, "late"))
    assert "Install" in late and "2024-05-01" in late  # the overdue milestone
    assert "T1 Build national compute" in late and "1 milestone(s) overdue" in late
    tasks = text_of(section(page, "tasks"))
    assert "T1" in tasks and "T2" in tasks and "Research Agency" not in tasks
    assert "Ministry of Research" in tasks  # T1's lead body
    indicators = section(page, "indicators")
    assert "AI R&amp;D budget" in indicators and "<svg" in indicators


def test_reports_in_japanese(xa: TestClient) -> None:
    page = text_of(xa.get(f"/plans/{PLAN}/reports/progress?lang=ja&today={TODAY}").text)
    assert "進捗報告" in page and "AIで先導" in page and "遅延" in page
    page = text_of(xa.get(f"/plans/{PLAN}/reports/dossier?lang=zh").text)
    assert "规划档案" in page and "科学理事会" in page


# ---------------------------------------------------------------- PDF


def test_pdf_routes_answer_pdf(xa: TestClient) -> None:
    for name in ("dossier", "progress"):
        response = xa.get(f"/plans/{PLAN}/reports/{name}.pdf?lang=en&today={TODAY}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert f"{PLAN}-{name}-en.pdf" in response.headers["content-disposition"]


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils (pdftotext) is not installed")
def test_pdfs_carry_the_title_sections_and_cjk_text(plan_db: Database, tmp_path: Path) -> None:
    build(plan_db)
    with plan_db.scope(write=False) as session:
        dossier = build_dossier_pdf(session, SYSTEM, PLAN, "en", D(2024, 6, 15))
        progress = build_progress_pdf(session, SYSTEM, PLAN, "ja", D(2024, 6, 15))
    assert dossier.startswith(b"%PDF-") and progress.startswith(b"%PDF-")
    text = pdf_text(dossier, tmp_path)
    assert "Atlantis AI plan" in text and "Alignment issues" in text
    assert "plan dossier" in text.lower()
    assert re.search(r"\b1\s*/\s*\d", text)  # page numbers in the footer
    text = "".join(pdf_text(progress, tmp_path).split())
    assert "AtlantisAIplan" in text
    assert "進捗報告" in text and "AIで先導" in text  # CJK glyphs, not boxes


def test_dossier_lays_out_on_a4_pages(plan_db: Database) -> None:
    build(plan_db)
    with plan_db.scope(write=False) as session:
        html = dossier_html(session, SYSTEM, PLAN, "en", D(2024, 6, 15))
    assert 2 <= pdf.page_count(html) <= 8


def test_page_count_and_page_size_of_the_pdf_renderer() -> None:
    html = "<h1>日本語のタイトル</h1>" + "<p style='break-after: page'>x</p>" * 2 + "<p>end</p>"
    assert pdf.page_count(html) == 3
    from weasyprint import CSS, HTML

    page = HTML(string=html).render(stylesheets=[CSS(string=pdf.PAGE_CSS)]).pages[0]
    assert (round(page.width * 25.4 / 96), round(page.height * 25.4 / 96)) == (210, 297)  # A4
    assert pdf.html_to_pdf(html).startswith(b"%PDF-")


# ---------------------------------------------------------------- chart specs


def test_chart_specs_carry_the_plan_data(plan_db: Database) -> None:
    build(plan_db)
    with plan_db.scope(write=False) as session:
        tree = reports.goal_tree(session, SYSTEM, PLAN, D(2024, 6, 15))
        overview = reports.plan_overview(session, SYSTEM, PLAN, D(2024, 6, 15))
        detail = reports.task_detail(session, SYSTEM, PLAN, "T1", D(2024, 6, 15))
    goals = charts.progress_by_goal(
        [charts.GoalBar(n.goal.code, n.goal.title, n.status.progress, n.status.status)
         for n in tree.nodes],
        status_labels={"late": "late", "on_track": "on track"},
    )  # fmt: skip
    values = goals["data"]["values"]
    assert [v["code"] for v in values] == ["G1", "O1", "O2"]
    by_code = {n.goal.code: n.status for n in tree.nodes}
    assert all(v["progress"] == round(by_code[v["code"]].progress, 4) for v in values)
    assert values[1]["status"] == "late" and goals["$schema"].endswith("v5.json")

    series = detail.indicators[0]
    ind = series.indicator
    trend = charts.indicator_trend(
        points=[charts.Point(m.on_date, m.value) for m in series.measurements],
        baseline=ind.baseline,
        target=ind.target,
        baseline_date=ind.baseline_date,
        deadline=ind.deadline,
        unit=ind.unit,
    )
    layers = trend["layer"]
    rules = next(layer for layer in layers if layer["mark"]["type"] == "rule")
    assert {v["value"] for v in rules["data"]["values"]} == {1.0, 2.0}  # baseline and target
    line = layers[-1]
    assert line["mark"]["type"] == "line"
    assert [(v["date"], v["value"]) for v in line["data"]["values"]] == [
        ("2024-03-31", 1.1),
        ("2024-06-01", 1.2),
    ]
    expected = layers[1]["data"]["values"]
    assert [(v["date"], v["value"]) for v in expected] == [("2024-01-01", 1.0), ("2026-01-01", 2.0)]

    stages = charts.stage_dates(
        [
            charts.StageSpan(
                s.stage.key,
                s.stage.planned_start,
                s.stage.planned_end,
                s.stage.actual_start,
                s.stage.actual_end,
            )
            for s in overview.stages
        ],
        today=D(2024, 6, 15),
    )
    rows = stages["data"]["values"]
    assert [(r["stage"], r["row"], r["start"]) for r in rows] == [
        ("consult", "actual", "2024-01-10")  # no planned dates in the fixture; still open
    ]
    assert rows[0]["kind"] == "Actual (still open)" and rows[0]["end"] >= "2024-06-15"
    assert stages["encoding"]["y"]["scale"]["domain"] == ["consult", "draft", "decide"]


def test_stage_chart_draws_two_bars_a_stage_and_renders_to_svg() -> None:
    spec = charts.stage_dates(
        [
            charts.StageSpan("one", D(2020, 1, 1), D(2020, 3, 1), D(2020, 1, 5), D(2020, 4, 1)),
            charts.StageSpan("two", D(2020, 4, 1), D(2020, 4, 1), D(2020, 4, 1), None),
            charts.StageSpan("three", D(2020, 5, 1), D(2020, 6, 1)),
        ],
        today=D(2020, 5, 1),
        labels={"planned": "予定", "actual": "実績"},
        font=charts.font_for("ja"),
    )
    rows = [(r["stage"], r["row"]) for r in spec["data"]["values"]]
    assert rows == [
        ("one", "planned"),
        ("one", "actual"),
        ("two", "planned"),
        ("two", "actual"),
        ("three", "planned"),
    ]
    one_day = [r for r in spec["data"]["values"] if r["stage"] == "two" and r["row"] == "planned"]
    assert one_day[0]["end"] > one_day[0]["start"]  # a one-day stage stays visible
    svg = charts.to_svg(spec)
    assert svg.startswith("<svg") and "予定" in svg and "Noto Sans CJK JP" in svg
    assert charts.to_svg(spec) is svg  # cached: a page shown again renders nothing


def test_indicator_chart_without_values_still_shows_target_and_baseline() -> None:
    spec = charts.indicator_trend(points=[], baseline=5, target=1, unit="days")
    assert spec["layer"][0]["mark"]["type"] == "rule"
    assert charts.to_svg(spec).startswith("<svg")
