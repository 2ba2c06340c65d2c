"""What a person sees of the strategic plans, in English, Chinese and Japanese: the list, Japan's
6th Basic Plan with its stage timeline, its goal tree and a task with its indicator chart.

This module serves its own app on a database seeded like ``stcoord seed --demo-users`` (reference
mechanisms, the reference plans and the demo accounts). Screenshots (and a PDF page rendered to
PNG) go to the pytest temporary directory.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from stcoord.config import Settings
from stcoord.db.engine import make_engine
from stcoord.db.migrate import upgrade
from stcoord.db.session import Database
from stcoord.plans.plan_file import GoalSpec, PlanFile, parse_plan
from stcoord.reference import MECHANISMS_DIR, plan_files
from stcoord.seed import DEMO_PASSWORD
from tests.e2e.conftest import _free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
LANGS = ["en", "zh", "ja"]
JP_PLAN = "jp-6th-basic-plan"
WORDS = {
    "en": {
        "plans": "Strategic plans",
        "blocking": "What blocks the next stage",
        "goals": "Goals and progress",
        "milestones": "Milestones",
        "statuses": {"done", "on track", "at risk", "late", "no data"},
        "filed": "The progress report was filed.",
    },
    "zh": {
        "plans": "战略规划",
        "blocking": "进入下一阶段的障碍",
        "goals": "目标与进展",
        "milestones": "里程碑",
        "statuses": {"已完成", "正常推进", "有风险", "延误", "无数据"},
        "filed": "进展报告已提交。",
    },
    "ja": {
        "plans": "戦略計画",
        "blocking": "次の段階に進めない理由",
        "goals": "目標と進捗",
        "milestones": "マイルストーン",
        "statuses": {"達成", "順調", "要注意", "遅延", "データなし"},
        "filed": "進捗報告を提出しました。",
    },
}


def reference_plan(key: str) -> PlanFile:
    path = next(p for p in plan_files() if p.stem == key)
    return parse_plan(path.read_text(encoding="utf-8"), path.name)


def local(names: dict[str, str], fallback: str, lang: str) -> str:
    return names.get(lang) or fallback


def all_goals(goals: list[GoalSpec]) -> list[GoalSpec]:
    out: list[GoalSpec] = []
    for g in goals:
        out += [g, *all_goals(g.children)]
    return out


def stage_count(template: str) -> int:
    import yaml

    spec = yaml.safe_load((MECHANISMS_DIR / "jp.yaml").read_text(encoding="utf-8"))
    return len(next(p for p in spec["procedures"] if p["key"] == template)["stages"])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served app on a database seeded with mechanisms, reference plans and demo users."""
    import uvicorn

    from stcoord.seed import seed
    from stcoord.web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-plans-db') / 'stcoord.db'}"
    upgrade(url)
    database = Database(make_engine(url))
    with database.scope() as session:
        seed(session, demo_users=True)
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


def live_chart(page: Page, chart_id: str) -> None:
    """vega-embed drew the chart (and the server-rendered fallback was hidden)."""
    figure = page.locator(f"figure#{chart_id}")
    expect(figure.locator(".vl-live svg.marks")).to_be_visible()
    expect(figure.locator(".vl-static")).to_be_hidden()


@pytest.mark.parametrize("lang", LANGS)
def test_plan_list(page: Page, lang: str, screenshots: Path) -> None:
    page.goto(f"/plans?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_have_text(WORDS[lang]["plans"])
    rows = page.locator("table.plans tbody tr")
    expect(rows).to_have_count(len(plan_files()))
    for path in plan_files():
        spec = reference_plan(path.stem)
        link = page.locator(f'a[href="/plans/{spec.key}"]')
        expect(link).to_have_text(local(spec.names, spec.title, lang))
    jp = rows.filter(has=page.locator(f'a[href="/plans/{JP_PLAN}"]'))
    expect(jp.locator(".progress")).to_be_visible()
    page.screenshot(path=screenshots / f"{lang}-plans.png", full_page=True)
    page.locator(f'a[href="/plans/{JP_PLAN}"]').click()
    expect(page).to_have_url(re.compile(f"/plans/{JP_PLAN}$"))


@pytest.mark.parametrize("lang", LANGS)
def test_japan_basic_plan_page(page: Page, lang: str, screenshots: Path) -> None:
    spec = reference_plan(JP_PLAN)
    page.goto(f"/plans/{JP_PLAN}?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        local(spec.names, spec.title, lang)
    )
    blocking = page.locator("#blocking")
    expect(blocking.get_by_role("heading", level=2)).to_have_text(WORDS[lang]["blocking"])
    expect(blocking.locator("ul.unmet li")).not_to_have_count(0)  # the open stage waits
    stages = page.locator("ol.stage-timeline > li.stage")
    expect(stages).to_have_count(stage_count(spec.template))
    expect(page.locator("li.stage.stage-closed")).to_have_count(
        sum(1 for s in spec.procedure.stages if s.closed_on)
    )
    expect(page.locator("li.stage.current")).to_have_count(1)
    live_chart(page, "chart-stages")
    page.screenshot(path=screenshots / f"{lang}-jp-plan.png", full_page=True)


@pytest.mark.parametrize("lang", LANGS)
def test_japan_goal_tree(page: Page, lang: str, screenshots: Path) -> None:
    spec = reference_plan(JP_PLAN)
    page.goto(f"/plans/{JP_PLAN}/goals?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(WORDS[lang]["goals"])
    goals = all_goals(spec.goals)
    expect(page.locator("li.goal-node")).to_have_count(len(goals))
    first = page.locator(f"#goal-{goals[0].code} .goal-title")
    expect(first).to_have_text(local(goals[0].names, goals[0].title, lang))
    badges = set(page.locator("#tree .status").all_text_contents())
    assert badges and badges <= WORDS[lang]["statuses"], badges
    expect(page.locator("#tree a[href*='/tasks/']")).to_have_count(len(spec.tasks))
    live_chart(page, "chart-goals")
    page.screenshot(path=screenshots / f"{lang}-jp-goals.png", full_page=True)


@pytest.mark.parametrize("lang", LANGS)
def test_japan_task_with_indicator_chart(page: Page, lang: str, screenshots: Path) -> None:
    spec = reference_plan(JP_PLAN)
    task = next(t for t in spec.tasks if t.code == "JP-T07")
    indicator = next(i for i in spec.indicators if i.task == task.code)
    page.goto(f"/plans/{JP_PLAN}/tasks/{task.code}?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(task.title)
    expect(page.get_by_role("heading", name=WORDS[lang]["milestones"])).to_be_visible()
    expect(page.locator("table.milestones tbody tr")).to_have_count(len(task.milestones))
    heading = page.locator(f"#indicator-{indicator.code} h3")
    expect(heading).to_contain_text(local(indicator.names, indicator.name, lang))
    live_chart(page, "chart-ind-0")
    # the line of measurements has one point per value
    points = page.locator("figure#chart-ind-0 .vl-live g.mark-symbol.role-mark path")
    expect(points).to_have_count(len(indicator.measurements))
    page.screenshot(path=screenshots / f"{lang}-jp-task.png", full_page=True)


def test_charts_are_server_rendered_without_javascript(
    browser: Browser, base_url: str, screenshots: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    page = context.new_page()
    try:
        page.goto(f"/plans/{JP_PLAN}/tasks/JP-T07?lang=ja")
        expect(page.locator("figure#chart-ind-0 .vl-static svg")).to_be_visible()
        expect(page.locator("figure#chart-ind-0 .vl-live")).to_be_hidden()
        page.screenshot(path=screenshots / "ja-jp-task-nojs.png", full_page=True)
    finally:
        context.close()


def test_liaison_files_a_progress_report(page: Page) -> None:
    page.goto("/login?lang=en")
    page.get_by_label("User name").fill("mext-liaison")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/plans/{JP_PLAN}/tasks/JP-T03?lang=en")  # MEXT leads JP-T03
    form = page.locator("form#file-progress")
    form.get_by_label("Period").fill("FY2025")
    form.get_by_label("Percent complete").fill("90")
    form.get_by_label("What was done, what is next").fill("Second university selected.")
    form.get_by_role("button", name="File report").click()
    expect(page.locator(".flash")).to_have_text(WORDS["en"]["filed"])
    expect(page.locator("#progress table")).to_contain_text("Second university selected.")
    page.goto(f"/plans/{JP_PLAN}/tasks/JP-T04?lang=en")  # METI leads, MEXT does not support
    expect(page.locator("form#file-progress")).to_have_count(0)


def test_coordinator_switches_the_deciding_body_in_place(page: Page) -> None:
    page.goto("/login?lang=en")
    page.get_by_label("User name").fill("coordinator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/plans/{JP_PLAN}?lang=en")
    page.evaluate("window.__same_page = true")
    decision = page.locator("#record-decision")
    expect(decision.locator('input[name="body"]')).to_have_value("cabinet")
    decision.get_by_label("Deciding body").select_option("csti")
    expect(page.locator('#record-decision input[name="body"]')).to_have_value("csti")
    assert page.evaluate("window.__same_page === true")  # HTMX swapped the form, no reload
    # refused: the Cabinet's decision is missing, so the stage cannot close
    page.get_by_role("button", name="Close this stage and open the next").click()
    expect(page.locator("#blocking .error")).to_contain_text("The stage cannot close yet")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_progress_report_pdf_in_japanese(page: Page, screenshots: Path) -> None:
    response = page.request.get(f"/plans/{JP_PLAN}/reports/progress.pdf?lang=ja")
    assert response.ok and response.body().startswith(b"%PDF-")
    pdf = screenshots / "ja-jp-progress.pdf"
    pdf.write_bytes(response.body())
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(screenshots / "pdf")],
        check=True,
    )
    assert sorted(p.name for p in screenshots.glob("pdf-*.png")) == ["pdf-1.png", "pdf-2.png"]
