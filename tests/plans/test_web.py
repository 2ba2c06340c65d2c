"""HTML pages of strategic plans on both databases, on the fictional XA plan (tests/plans/conftest).

What anonymous readers see on each page, 404s, the coordinator's procedure forms (a refused
advance lists every unmet condition and writes nothing), and progress reporting by liaisons.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stcoord.audit.models import AuditRecord
from stcoord.auth.permissions import SYSTEM, Role
from stcoord.db.session import Database
from stcoord.plans import service
from stcoord.plans.models import (
    Milestone,
    Plan,
    PlanEvent,
    PlanStage,
    ProgressReport,
    StageInput,
    Task,
)
from tests.helpers import login, make_user
from tests.plans.conftest import PLAN

D = dt.date
TODAY = "2024-06-15"  # statuses below are as of this day


def text_of(html: str) -> str:
    """Roughly what a person reads: tags dropped, whitespace squeezed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.find("<section", start + 1)
    return html[start : end if end > 0 else len(html)]


def build(db: Database) -> None:
    """Goals, tasks (T1 led by the research ministry, supported by the agency; T2 by finance),
    milestones (one done, one overdue on TODAY), an indicator with values, a report, drafts."""
    with db.scope() as session:
        add = {"session": session, "actor": SYSTEM, "plan_key": PLAN}
        service.add_goal(
            **add, code="G1", kind="goal", title="Lead in AI", names={"ja": "AIで先導"}
        )
        service.add_goal(**add, code="O1", kind="objective", title="Research", parent="G1")
        service.add_goal(**add, code="O2", kind="objective", title="People", parent="G1")
        service.add_task(
            **add,
            code="T1",
            title="Build national compute",
            goal="O1",
            lead_body="research",
            supporting=["agency"],
            budget_link="AI-01",
        )
        service.add_task(**add, code="T2", title="Scholarships", goal="O2", lead_body="finance")
        service.add_milestone(
            **add, task_code="T1", code="M1", title="Tender", due=D(2024, 3, 1),
            completed_on=D(2024, 2, 20),
        )  # fmt: skip
        service.add_milestone(**add, task_code="T1", code="M2", title="Install", due=D(2024, 5, 1))
        service.add_milestone(**add, task_code="T1", code="M3", title="Open", due=D(2025, 5, 1))
        service.add_indicator(
            **add,
            code="I1",
            name="AI R&D budget",
            names={"ja": "AI研究開発予算"},
            unit="billion",
            baseline=1.0,
            target=2.0,
            direction="increase",
            baseline_date=D(2024, 1, 1),
            deadline=D(2026, 1, 1),
            task="T1",
        )
        for day, value in ((D(2024, 3, 31), 1.1), (D(2024, 6, 1), 1.2)):
            service.record_measurement(**add, indicator="I1", on_date=day, value=value)
        service.file_progress(
            **add, task_code="T2", period="2024-Q1", percent_complete=40, narrative="On course."
        )
        service.add_draft(
            **add,
            title="First",
            sections=[
                {"key": "intro", "heading": "Introduction", "text": "We will invest in AI."},
                {"key": "budget", "heading": "Budget", "text": "One billion."},
            ],
        )
        service.add_draft(
            **add,
            title="Second",
            sections=[
                {"key": "intro", "heading": "Introduction", "text": "We will invest more in AI."},
                {"key": "people", "heading": "People", "text": "Train researchers."},
            ],
        )


@pytest.fixture
def xa(plan_db: Database, client: TestClient) -> TestClient:
    build(plan_db)
    return client


def sign_in(
    db: Database, client: TestClient, role: Role, bodies: list[tuple[str, str]] | None = None
) -> str:
    username = f"{role.value}-{'-'.join(k for _, k in bodies or [])}"
    make_user(db, username, role, bodies)
    return login(client, username)


def count(db: Database, model: type) -> int:
    """Rows of ``model`` (audit records: all of them; others: those of the XA plan; the test
    database also holds the reference plans)."""
    stmt = select(func.count()).select_from(model)
    if model is PlanEvent:
        stmt = stmt.join(Plan, Plan.id == PlanEvent.plan_id).where(Plan.key == PLAN)
    elif model is StageInput:
        stmt = stmt.join(PlanStage).join(Plan).where(Plan.key == PLAN)
    elif model is ProgressReport:
        stmt = stmt.join(Task).join(Plan).where(Plan.key == PLAN)
    with db.scope(write=False) as session:
        return int(session.scalar(stmt) or 0)


def milestone(db: Database, code: str, task: str = "T1") -> Milestone:
    with db.scope(write=False) as session:
        return session.scalars(
            select(Milestone)
            .join(Task)
            .join(Plan)
            .where(Plan.key == PLAN, Task.code == task, Milestone.code == code)
        ).one()


# ---------------------------------------------------------------- list


def test_plan_list_shows_title_jurisdiction_stage_and_progress(xa: TestClient) -> None:
    response = xa.get(f"/plans?lang=en&today={TODAY}")
    assert response.status_code == 200
    page = response.text
    assert 'href="/plans/xa-ai"' in page and "Atlantis AI plan" in page
    assert 'href="/mechanisms/XA"' in page
    row = text_of(page[page.index('href="/plans/xa-ai"') :].split("</tr>")[0])
    assert "Consultation" in row and "stage 1 of 3" in row
    assert "active" in row and "%" in row
    assert "/plans.csv" in page


def test_plan_list_filters_by_jurisdiction_sorts_and_exports_csv(xa: TestClient) -> None:
    assert "xa-ai" in xa.get("/plans?jurisdiction=xa&lang=en").text
    other = xa.get("/plans?jurisdiction=CN&lang=en").text
    assert 'href="/plans/xa-ai"' not in other and "No plan matches this filter." in other
    assert xa.get("/plans?sort=-progress&lang=en").status_code == 200
    assert xa.get("/plans?sort=nonsense&lang=en").status_code == 422
    response = xa.get("/plans.csv?jurisdiction=XA&lang=ja")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["key"] for r in rows] == ["xa-ai"]
    assert rows[0]["jurisdiction"] == "XA" and rows[0]["current_stage"] == "consult"
    assert rows[0]["stages"] == "3" and rows[0]["stages_closed"] == "0"


# ---------------------------------------------------------------- plan page


def test_plan_page_shows_stage_timeline_blockers_and_links(xa: TestClient) -> None:
    response = xa.get(f"/plans/{PLAN}?lang=en&today={TODAY}")
    assert response.status_code == 200
    page = response.text
    stages = [page.index(f'id="stage-{k}"') for k in ("consult", "draft", "decide")]
    assert stages == sorted(stages)  # in their order
    timeline = section(page, "stages")
    assert 'href="/mechanisms/XA/bodies/council"' in timeline  # the acting body, linked
    assert "Request for information" in timeline  # a channel, translated
    assert "Channels heard" in timeline and "Decision by the body" in timeline  # gates
    assert "2024-01-10" in timeline  # actual start of the open stage
    blocking = text_of(section(page, "blocking"))
    assert "What blocks the next stage" in blocking
    assert "No input yet from: Industry, Academia" in blocking
    assert "Close this stage" not in blocking  # anonymous readers get no forms
    assert 'action="/plans/xa-ai/inputs"' not in page
    for href in (
        "/plans/xa-ai/goals",
        "/plans/xa-ai/drafts",
        "/plans/xa-ai/alignment",
        "/plans/xa-ai/reports/dossier",
        "/plans/xa-ai/reports/progress.pdf",
        "/api/v1/plans/xa-ai/sheets/tasks.csv",
        "/api/v1/plans/xa-ai/sheets/milestones.xlsx",
        "/api/v1/plans/xa-ai/sheets/indicator_values.csv",
        "/plans/xa-ai/drafts/diff?old=1&amp;new=2",
    ):
        assert f'href="{href}"' in page, href
    assert "<svg" in section(page, "stages")  # the planned-vs-actual chart, server-rendered
    assert '"$schema"' in page  # and its Vega-Lite spec for vega-embed
    events = text_of(section(page, "timeline"))
    assert "Plan opened" in events and "Draft saved" in events and "system" in events


def test_plan_page_in_japanese_and_chinese(xa: TestClient) -> None:
    page = text_of(xa.get(f"/plans/{PLAN}?lang=ja").text)
    assert "次の段階に進めない理由" in page
    assert "産業界" in page and "学界" in page  # the missing channels, translated
    assert "科学会議" in page  # the council's Japanese name
    page = text_of(xa.get(f"/plans/{PLAN}?lang=zh").text)
    assert "进入下一阶段的障碍" in page and "产业界" in page


@pytest.mark.parametrize(
    "url",
    [
        "/plans/nope",
        "/plans/nope/goals",
        "/plans/xa-ai/tasks/NOPE",
        "/plans/xa-ai/drafts/9",
        "/plans/xa-ai/drafts/diff?old=1&new=9",
        "/plans/nope/alignment",
        "/plans/nope/reports/dossier",
        "/plans/nope/reports/progress.pdf",
    ],
)
def test_unknown_plan_task_or_draft_is_a_404_page(xa: TestClient, url: str) -> None:
    response = xa.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Not found" in response.text


# ---------------------------------------------------------------- coordinator forms


def test_refused_advance_lists_every_unmet_condition_and_writes_nothing(
    plan_db: Database, xa: TestClient
) -> None:
    token = sign_in(plan_db, xa, Role.coordinator)
    page = xa.get(f"/plans/{PLAN}?lang=en").text
    assert 'action="/plans/xa-ai/advance"' in page and 'id="record-input"' in page
    events, audits = count(plan_db, PlanEvent), count(plan_db, AuditRecord)
    response = xa.post(
        f"/plans/{PLAN}/advance?lang=en", data={"csrf_token": token, "on_date": "2024-02-01"}
    )
    assert response.status_code == 409
    refusal = text_of(section(response.text, "blocking"))
    assert "The stage cannot close yet. Nothing was changed." in refusal
    assert "No input yet from: Industry, Academia" in refusal
    assert (count(plan_db, PlanEvent), count(plan_db, AuditRecord)) == (events, audits)
    with plan_db.scope(write=False) as session:
        assert service.get_plan(session, SYSTEM, PLAN).stages[0].status == "open"


def test_inputs_then_advance_opens_the_next_stage(plan_db: Database, xa: TestClient) -> None:
    token = sign_in(plan_db, xa, Role.coordinator)
    for channel in ("industry", "academia"):
        response = xa.post(
            f"/plans/{PLAN}/inputs",
            data={
                "csrf_token": token,
                "channel": channel,
                "summary": f"Views of {channel}",
                "on_date": "2024-01-20",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/plans/xa-ai#record-input"
    page = xa.get(f"/plans/{PLAN}?lang=en").text
    assert "The input was recorded." in page
    assert "Every gate condition is met: the stage can close." in text_of(page)
    response = xa.post(
        f"/plans/{PLAN}/advance",
        data={"csrf_token": token, "on_date": "2024-02-01"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = xa.get(f"/plans/{PLAN}?lang=en").text
    assert "The stage was closed and the next one opened." in page
    assert 'class="stage stage-open current"' in section(page, "stage-draft")
    events = section(page, "timeline")
    assert "<strong>Stage closed</strong>: Consultation → Interagency draft" in events
    assert "coordinator-" in events  # who did it
    with plan_db.scope(write=False) as session:
        plan = service.get_plan(session, SYSTEM, PLAN)
        assert [s.status for s in plan.stages] == ["closed", "open", "pending"]
        assert plan.stages[0].actual_end == D(2024, 2, 1)


def test_output_form_and_invalid_input_is_shown_with_the_typing(
    plan_db: Database, xa: TestClient
) -> None:
    token = sign_in(plan_db, xa, Role.coordinator)
    response = xa.post(
        f"/plans/{PLAN}/outputs",
        data={"csrf_token": token, "name": "Consultation report", "on_date": "2024-01-31"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    response = xa.post(
        f"/plans/{PLAN}/inputs?lang=en",
        data={"csrf_token": token, "channel": "advisory", "summary": "An opinion", "on_date": "x"},
    )
    assert response.status_code == 422
    form = section(response.text, "record-input")
    assert "Not saved. Please correct the following:" in text_of(form)
    assert "on_date" in form and "An opinion" in form  # the reason, and what was typed
    assert count(plan_db, StageInput) == 0


def test_decision_by_a_body_without_the_power_to_decide_is_refused(
    plan_db: Database, xa: TestClient
) -> None:
    token = sign_in(plan_db, xa, Role.coordinator)
    page = xa.get(f"/plans/{PLAN}?lang=en&decision_body=ai_panel").text
    decision = section(page, "record-decision")
    assert 'name="body" value="ai_panel"' in decision
    assert decision.count('name="present"') == 2  # the panel's two kinds of seat
    events, audits = count(plan_db, PlanEvent), count(plan_db, AuditRecord)
    response = xa.post(
        f"/plans/{PLAN}/decisions?lang=en",
        data={
            "csrf_token": token,
            "body": "ai_panel",
            "on_date": "2024-02-01",
            "outcome": "approved",
            "role": ["chair", "member"],
            "holder_type": ["expert_academia", "expert_industry"],
            "present": ["1", "3"],
            "consensus": "1",
        },
    )
    assert response.status_code == 422
    refusal = text_of(section(response.text, "record-decision"))
    assert "holds no power to decide" in refusal
    assert (count(plan_db, PlanEvent), count(plan_db, AuditRecord)) == (events, audits)


def test_council_decision_with_quorum_is_recorded(plan_db: Database, xa: TestClient) -> None:
    token = sign_in(plan_db, xa, Role.coordinator)
    page = xa.get(f"/plans/{PLAN}?lang=en").text
    decision = section(page, "record-decision")
    assert 'name="body" value="council"' in decision  # the stage's acting body by default
    response = xa.post(
        f"/plans/{PLAN}/decisions",
        data={
            "csrf_token": token,
            "body": "council",
            "on_date": "2024-02-01",
            "role": ["chair", "member", "member", "member", "member"],
            "holder_type": [
                "head_of_government",
                "budget_authority",
                "minister",
                "expert_academia",
                "expert_industry",
            ],
            "present": ["1", "1", "1", "2", "0"],
            "consensus": "1",
            "minutes": "Agreed.",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    decisions = text_of(section(xa.get(f"/plans/{PLAN}?lang=en").text, "decisions"))
    assert "approved" in decisions and "2024-02-01" in decisions and "met" in decisions


def test_form_post_without_csrf_token_is_refused(plan_db: Database, xa: TestClient) -> None:
    sign_in(plan_db, xa, Role.coordinator)
    response = xa.post(f"/plans/{PLAN}/advance", data={"on_date": "2024-02-01"})
    assert response.status_code == 403


def test_viewer_may_not_advance(plan_db: Database, xa: TestClient) -> None:
    token = sign_in(plan_db, xa, Role.viewer)
    assert 'action="/plans/xa-ai/advance"' not in xa.get(f"/plans/{PLAN}").text
    response = xa.post(f"/plans/{PLAN}/advance", data={"csrf_token": token})
    assert response.status_code == 403


# ---------------------------------------------------------------- goal tree


def test_goal_tree_shows_progress_statuses_tasks_and_indicators(xa: TestClient) -> None:
    response = xa.get(f"/plans/{PLAN}/goals?lang=en&today={TODAY}")
    assert response.status_code == 200
    page = response.text
    tree = section(page, "tree")
    order = [tree.index(f'id="goal-{c}"') for c in ("G1", "O1", "O2")]
    assert order == sorted(order)
    o1 = tree[tree.index('id="goal-O1"') : tree.index('id="goal-O2"')]
    assert 'href="/plans/xa-ai/tasks/T1"' in o1
    assert 'href="/mechanisms/XA/bodies/research"' in o1  # the lead body, linked
    assert "status-late" in o1 and ">late<" in o1  # M2 was due on 2024-05-01
    assert "1 milestone(s) overdue" in text_of(o1)
    assert "1.2 / 2 billion" in text_of(o1)  # the indicator's latest value against its target
    assert 'class="progress"' in o1 and "33%" in o1  # 1 of 3 milestones done
    o2 = text_of(tree[tree.index('id="goal-O2"') :])
    assert "40%" in o2 and "on track" in o2
    assert "<svg" in section(page, "chart")  # progress by goal
    filtered = section(
        xa.get(f"/plans/{PLAN}/goals?lang=en&today={TODAY}&status=late").text, "tree"
    )
    assert "tasks/T1" in filtered and "tasks/T2" not in filtered


def test_goal_tree_translates_statuses_and_names(xa: TestClient) -> None:
    page = text_of(xa.get(f"/plans/{PLAN}/goals?lang=ja&today={TODAY}").text)
    assert "AIで先導" in page and "遅延" in page and "順調" in page
    page = text_of(xa.get(f"/plans/{PLAN}/goals?lang=zh&today={TODAY}").text)
    assert "延误" in page and "正常推进" in page


# ---------------------------------------------------------------- task page


def test_task_page_shows_bodies_milestones_reports_and_indicator_chart(xa: TestClient) -> None:
    response = xa.get(f"/plans/{PLAN}/tasks/T1?lang=en&today={TODAY}")
    assert response.status_code == 200
    page = response.text
    assert 'href="/mechanisms/XA/bodies/research"' in page
    assert 'href="/mechanisms/XA/bodies/agency"' in page  # supporting
    milestones = section(page, "milestones")
    m2 = milestones[milestones.index('id="milestone-M2"') :].split("</tr>")[0]
    assert "overdue" in m2 and "2024-05-01" in m2
    m1 = milestones[milestones.index('id="milestone-M1"') :].split("</tr>")[0]
    assert "2024-02-20" in m1 and ">done<" in m1
    indicators = section(page, "indicators")
    assert "AI R&amp;D budget" in indicators and "<svg" in indicators
    assert '"values"' in indicators and '"2024-06-01"' in indicators  # the spec's data
    assert "No progress report filed yet." in page
    assert 'action="/plans/xa-ai/tasks/T1/progress"' not in page  # anonymous: no forms
    report = text_of(xa.get(f"/plans/{PLAN}/tasks/T2?lang=en").text)
    assert (
        "2024-Q1" in report and "On course." in report and "This task has no indicator." in report
    )


def test_liaison_of_the_lead_body_files_progress_and_completes_a_milestone(
    plan_db: Database, xa: TestClient
) -> None:
    token = sign_in(plan_db, xa, Role.liaison, [("XA", "research")])
    page = xa.get(f"/plans/{PLAN}/tasks/T1?lang=en").text
    assert 'action="/plans/xa-ai/tasks/T1/progress"' in page
    response = xa.post(
        f"/plans/{PLAN}/tasks/T1/progress",
        data={
            "csrf_token": token,
            "period": "2024-Q2",
            "percent_complete": "55",
            "narrative": "Hardware delivered.",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = xa.get(f"/plans/{PLAN}/tasks/T1?lang=en").text
    assert "The progress report was filed." in page
    assert "Hardware delivered." in section(page, "progress")
    version = milestone(plan_db, "M2").version
    response = xa.post(
        f"/plans/{PLAN}/tasks/T1/milestones/M2/complete",
        data={"csrf_token": token, "completed_on": "2024-06-10", "version": str(version)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert milestone(plan_db, "M2").completed_on == D(2024, 6, 10)
    # the same period twice is a conflict shown in the form, not an overwrite
    response = xa.post(
        f"/plans/{PLAN}/tasks/T1/progress?lang=en",
        data={"csrf_token": token, "period": "2024-Q2", "percent_complete": "60"},
    )
    assert response.status_code == 409
    assert "Not saved: this conflicts" in text_of(section(response.text, "file-progress"))
    assert count(plan_db, ProgressReport) == 2  # T2's and the first T1 report


def test_stale_milestone_completion_is_a_conflict(plan_db: Database, xa: TestClient) -> None:
    token = sign_in(plan_db, xa, Role.coordinator)
    response = xa.post(
        f"/plans/{PLAN}/tasks/T1/milestones/M2/complete?lang=en",
        data={"csrf_token": token, "completed_on": "2024-06-10", "version": "0"},
    )
    assert response.status_code == 409
    assert milestone(plan_db, "M2").completed_on is None


def test_liaison_of_another_body_gets_403(plan_db: Database, xa: TestClient) -> None:
    token = sign_in(plan_db, xa, Role.liaison, [("XA", "finance")])
    assert 'action="/plans/xa-ai/tasks/T1/progress"' not in xa.get(f"/plans/{PLAN}/tasks/T1").text
    response = xa.post(
        f"/plans/{PLAN}/tasks/T1/progress",
        data={"csrf_token": token, "period": "2024-Q2", "percent_complete": "55"},
    )
    assert response.status_code == 403
    response = xa.post(
        f"/plans/{PLAN}/tasks/T1/milestones/M2/complete",
        data={"csrf_token": token, "completed_on": "2024-06-10"},
    )
    assert response.status_code == 403
    assert count(plan_db, ProgressReport) == 1
    # finance leads T2: there the same liaison may report
    assert 'action="/plans/xa-ai/tasks/T2/progress"' in xa.get(f"/plans/{PLAN}/tasks/T2").text


# ---------------------------------------------------------------- drafts and alignment


def test_drafts_page_lists_versions_and_links_the_diff(xa: TestClient) -> None:
    page = xa.get(f"/plans/{PLAN}/drafts?lang=en").text
    assert 'href="/plans/xa-ai/drafts/1"' in page and 'href="/plans/xa-ai/drafts/2"' in page
    assert 'href="/plans/xa-ai/drafts/diff?old=1&amp;new=2"' in page
    draft = xa.get(f"/plans/{PLAN}/drafts/1?lang=en").text
    assert "We will invest in AI." in draft and "Budget" in draft


def test_diff_highlights_inserted_and_deleted_words_by_section(xa: TestClient) -> None:
    response = xa.get(f"/plans/{PLAN}/drafts/diff?old=1&new=2&lang=en")
    assert response.status_code == 200
    page = response.text
    intro = section(page, "section-intro")
    assert "<ins>more </ins>" in intro and "We will invest" in intro and "changed" in intro
    people = section(page, "section-people")
    assert "added" in people and "<ins>Train researchers.</ins>" in people
    budget = section(page, "section-budget")
    assert "removed" in budget and "<del>One billion.</del>" in budget
    assert xa.get(f"/plans/{PLAN}/drafts/diff?old=1&new=x").status_code == 422


def test_alignment_page_lists_tasks_missing_links(xa: TestClient) -> None:
    page = xa.get(f"/plans/{PLAN}/alignment?lang=en").text
    tasks = text_of(section(page, "task-issues"))
    assert "T2 No indicator" in tasks and "T2 No budget link" in tasks
    assert "T1 No" not in tasks  # T1 has a lead body, an indicator and a budget link
    bodies = text_of(section(page, "body-issues"))
    assert "Research Agency" in bodies and "named in 1 task" in bodies  # the agency has no mandate
