"""Pure plan analytics: quorum and decision rules, gates, roll-up, alignment, draft diffs."""

import datetime as dt

import pytest

from stcoord.analytics.alignment import MandateScope, TaskLinks, check_alignment
from stcoord.analytics.composition import RuleSyntaxError, SeatCount
from stcoord.analytics.decisions import Attendance, check_decision, check_quorum, parse_quorum
from stcoord.analytics.gates import Condition, PlanFacts, StageFacts, unmet_conditions
from stcoord.analytics.rollup import (
    GoalFacts,
    IndicatorFacts,
    MilestoneFacts,
    TaskFacts,
    indicator_status,
    rollup,
)
from stcoord.analytics.textdiff import diff_drafts

CSTI = [
    SeatCount("chair", "head_of_government", 1),
    SeatCount("member", "minister", 6),
    SeatCount("member", "expert_academia", 7),
]


def attend(chair: int, ministers: int, experts: int) -> list[Attendance]:
    return [
        Attendance("chair", "head_of_government", chair),
        Attendance("member", "minister", ministers),
        Attendance("member", "expert_academia", experts),
    ]


def test_quorum_needs_the_chair_and_a_majority_of_members() -> None:
    assert check_quorum("chair + majority of members", CSTI, attend(1, 4, 3)).met
    short = check_quorum("chair + majority of members", CSTI, attend(1, 3, 3))
    assert not short.met
    assert short.explanation[1] == "majority of members: 6 present, 7 needed (not met)"
    assert not check_quorum("chair + majority of members", CSTI, attend(0, 6, 7)).met
    assert check_quorum(None, CSTI, attend(0, 4, 4)).met  # default: majority of seats
    assert check_quorum("two_thirds of members", CSTI, attend(0, 6, 4)).met
    assert check_quorum("all ministers", CSTI, attend(0, 6, 0)).met


@pytest.mark.parametrize("bad", ["", "chair + lots", "most of members", "majority members"])
def test_bad_quorum_expressions(bad: str) -> None:
    with pytest.raises(RuleSyntaxError):
        parse_quorum(bad)


def test_consensus_then_chair_rule() -> None:
    common = {
        "rule": "consensus_then_chair",
        "quorum": "chair + majority of members",
        "seats": CSTI,
        "outcome": "approved",
    }
    assert check_decision(**common, attendance=attend(1, 5, 5), consensus=True).valid
    assert check_decision(**common, attendance=attend(1, 5, 5), chair_decided=True).valid
    neither = check_decision(**common, attendance=attend(1, 5, 5))
    assert neither.problems == ("no consensus was recorded and the chair (present) did not decide",)
    no_quorum = check_decision(**common, attendance=attend(1, 1, 1), consensus=True)
    assert no_quorum.problems == ("quorum not met",)
    too_many = check_decision(**common, attendance=attend(1, 9, 5), consensus=True)
    assert "but the body has 6 such seat(s)" in too_many.problems[0]


def test_majority_and_unanimity_rules_and_rejections() -> None:
    base = {"quorum": None, "seats": CSTI, "attendance": attend(1, 6, 7)}
    assert check_decision(
        rule="majority", outcome="approved", votes_for=8, votes_against=6, **base
    ).valid
    assert not check_decision(
        rule="majority", outcome="approved", votes_for=7, votes_against=7, **base
    ).valid
    assert check_decision(
        rule="majority", outcome="rejected", votes_for=2, votes_against=12, **base
    ).valid
    assert not check_decision(
        rule="unanimity", outcome="approved", votes_for=13, votes_against=1, **base
    ).valid
    assert check_decision(
        rule="two_thirds", outcome="approved", votes_for=10, votes_against=4, **base
    ).valid


def stage(seq: int, **kw) -> StageFacts:  # type: ignore[no-untyped-def]
    return StageFacts(seq=seq, key=f"s{seq}", **kw)


def test_every_unmet_gate_condition_is_listed() -> None:
    gate = (
        Condition(
            "channels_heard", channels=("interagency", "industry", "academia", "public_comment")
        ),
        Condition("advisory_opinion", body="pcast"),
        Condition("decision_by_body", body="nstc"),
        Condition("output_recorded", output="Strategic plan"),
        Condition("prior_stages_closed"),
        Condition("comments_answered"),
    )
    s2 = stage(2, gate=gate, heard=frozenset({"industry"}), unanswered_comments=3)
    plan = PlanFacts(stages=(stage(1, status="open"), s2))
    messages = [u.message for u in unmet_conditions(s2, plan)]
    assert messages == [
        "no input yet from interagency, academia, public_comment",
        "the opinion of pcast is not on record",
        "no valid approving decision by nstc is on record",
        "output not recorded: Strategic plan",
        "earlier stages not closed: s1",
        "3 comment(s) have no official disposition yet",
    ]
    done = stage(
        2,
        gate=gate,
        heard=frozenset({"interagency", "industry", "academia", "public_comment"}),
        advisory_bodies=frozenset({"pcast"}),
        approved_by=frozenset({"nstc"}),
        outputs=frozenset({"Strategic plan"}),
    )
    assert unmet_conditions(done, PlanFacts(stages=(stage(1, status="closed"), done))) == []


def test_channels_heard_defaults_to_the_stage_channels() -> None:
    s = stage(1, channels=("rfi",), gate=(Condition("channels_heard"),))
    assert [u.message for u in unmet_conditions(s, PlanFacts((s,)))] == ["no input yet from rfi"]


D = dt.date


def test_indicator_progress_in_both_directions_and_against_the_clock() -> None:
    up = IndicatorFacts(
        1, baseline=0, target=30, baseline_date=D(2021, 4, 1), deadline=D(2026, 3, 31), latest=13.5
    )
    state = indicator_status(up, D(2023, 10, 1))
    assert state.status == "on_track" and state.progress == pytest.approx(0.45)
    assert indicator_status(up, D(2025, 10, 1)).status == "at_risk"
    assert indicator_status(up, D(2026, 4, 1)).status == "late"
    down = IndicatorFacts(2, baseline=100, target=50, latest=40)
    assert indicator_status(down, D(2024, 1, 1)).status == "done"


def test_rollup_weights_and_worst_status() -> None:
    today = D(2024, 6, 1)
    tasks = [
        TaskFacts(10, 2, weight=3, milestones=(MilestoneFacts(D(2024, 1, 1), D(2024, 1, 1)),)),
        TaskFacts(11, 2, weight=1, milestones=(MilestoneFacts(D(2024, 5, 1)),)),
        TaskFacts(12, 3, reported_percent=50),
    ]
    goals = [
        GoalFacts(1, None),
        GoalFacts(2, 1, weight=1),
        GoalFacts(3, 1, weight=1),
        GoalFacts(4, 1, weight=0),
    ]
    result = rollup(goals=goals, tasks=tasks, indicators=[], today=today)
    assert result.tasks[10].status == "done"
    assert result.tasks[11].status == "late"
    assert result.goals[2].progress == pytest.approx(0.75)
    assert result.goals[2].status == "late"
    assert result.goals[3].progress == pytest.approx(0.5)
    assert result.goals[4].status == "no_data"
    assert result.goals[1].progress == pytest.approx(0.625)
    assert result.goals[1].status == "late"


def test_task_at_risk_from_its_indicator_or_a_close_milestone() -> None:
    today = D(2024, 6, 1)
    soon = TaskFacts(1, None, milestones=(MilestoneFacts(D(2024, 6, 20)),))
    ind = IndicatorFacts(
        5,
        task_id=2,
        baseline=0,
        target=10,
        baseline_date=D(2024, 1, 1),
        deadline=D(2024, 7, 1),
        latest=1,
    )
    lagging = TaskFacts(2, None, milestones=(MilestoneFacts(D(2025, 1, 1)),))
    result = rollup(goals=[], tasks=[soon, lagging], indicators=[ind], today=today)
    assert result.tasks[1].status == "at_risk"
    assert result.tasks[2].status == "at_risk"
    assert result.tasks[2].reasons == ("an indicator is behind its trajectory",)


def test_rollup_of_a_deep_tree_does_not_recurse() -> None:
    goals = [GoalFacts(i, i - 1 if i else None) for i in range(5000)]
    tasks = [TaskFacts(1, 4999, reported_percent=100)]
    result = rollup(goals=goals, tasks=tasks, indicators=[], today=D(2024, 1, 1))
    assert result.goals[0].status == "done"


def test_alignment_lists_missing_links_and_bodies_without_mandate() -> None:
    tasks = [
        TaskLinks(1, "T1", "mext", 1, "SIP", ("meti",)),
        TaskLinks(2, "T2", None, 0, None),
        TaskLinks(3, "T3", "scj", 2, "x"),
    ]
    mandates = {
        "mext": [MandateScope("implement", "all")],
        "meti": [MandateScope("implement", ("semiconductors",))],
        "scj": [MandateScope("advise", "all")],
    }
    report = check_alignment(tasks=tasks, mandates=mandates, plan_fields=("ai",))
    problems = [(i.task, i.body, i.problem) for i in report.issues]
    assert problems[:3] == [
        ("T2", None, "no lead body"),
        ("T2", None, "no indicator"),
        ("T2", None, "no budget link"),
    ]
    assert [(b, p.split(" but")[0]) for _, b, p in problems[3:]] == [
        ("meti", "named in 1 task(s) (T1)"),
        ("scj", "named in 1 task(s) (T3)"),
    ]
    assert report.aligned_share == pytest.approx(2 / 3)


def test_draft_diff_by_section_including_cjk_text() -> None:
    old = {"intro": "研究力を強化する。", "goals": "Invest ¥30 trillion.", "gone": "x"}
    new = {"intro": "研究力を大幅に強化する。", "goals": "Invest ¥30 trillion.", "new": "y"}
    diff = {d.key: d for d in diff_drafts(old, new)}
    assert {k: d.change for k, d in diff.items()} == {
        "intro": "changed",
        "goals": "unchanged",
        "new": "added",
        "gone": "removed",
    }
    inserted = [op.new for op in diff["intro"].ops if op.kind == "insert"]
    assert inserted == ["大幅に"]
