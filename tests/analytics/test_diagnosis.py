"""The four findings on small hand-made mechanisms: each verdict, its evidence and its gaps."""

from dataclasses import replace

from stcoord.analytics.diagnosis import (
    BodyFact,
    MandateFact,
    MechanismFacts,
    ProcedureFact,
    RelationFact,
    SeatFact,
    StageFact,
    diagnose,
)

COUNCIL = BodyFact(
    key="council",
    name="Council",
    level="supra_ministerial",
    kind="council",
    seats=(
        SeatFact("chair", "head_of_government", "PM"),
        SeatFact("member", "minister", "Minister A"),
        SeatFact("member", "minister", "Minister B"),
    ),
    mandates=(
        MandateFact("administrative", "coordinate"),
        MandateFact("technical", "decide"),
    ),
    decision_rule="consensus_then_chair",
    quorum="chair + majority of members",
)
FINANCE = BodyFact(
    key="finance",
    name="Finance",
    level="ministerial",
    kind="ministry",
    mandates=(MandateFact("budgetary", "allocate"),),
)
HEAD = BodyFact(key="pm", name="PM", level="head", kind="head_of_government")


def facts(*bodies: BodyFact, relations=(), procedures=()) -> MechanismFacts:  # type: ignore[no-untyped-def]
    return MechanismFacts(
        code="T",
        bodies=bodies,
        relations=tuple(relations),
        procedures=tuple(procedures),
        fields=("ai", "quantum"),
    )


def verdicts(m: MechanismFacts, field: str = "ai") -> list[str]:
    return [f.verdict for f in diagnose(m, field).findings]


def test_finding_1_partial_without_budget_then_met_with_the_finance_minister_at_the_table() -> None:
    result = diagnose(facts(COUNCIL, FINANCE), "ai").findings[0]
    assert result.verdict == "partial"
    assert "budgetary" in result.gaps[0]

    with_finance = replace(
        COUNCIL,
        seats=(*COUNCIL.seats, SeatFact("member", "minister", "Finance", holder_body="finance")),
    )
    result = diagnose(facts(with_finance, FINANCE), "ai").findings[0]
    assert result.verdict == "met"
    assert result.gaps == ()
    assert "bodies/council/seats[3]" in {e.path for e in result.evidence}


def test_finding_1_counts_a_sub_body_budget_mandate_for_the_field_only() -> None:
    committee = BodyFact(
        key="ai_committee",
        name="AI committee",
        level="supra_ministerial",
        kind="committee",
        parent="council",
        mandates=(MandateFact("budgetary", "coordinate", scope=("ai",)),),
    )
    m = facts(COUNCIL, committee)
    assert diagnose(m, "ai").findings[0].verdict == "met"
    assert diagnose(m, "quantum").findings[0].verdict == "partial"


def test_finding_1_not_met_without_a_supra_ministerial_body() -> None:
    result = diagnose(facts(FINANCE, HEAD), "ai").findings[0]
    assert result.verdict == "not_met"
    assert result.gaps == ("the mechanism has no supra-ministerial body",)


def test_abolished_bodies_do_not_count() -> None:
    gone = replace(COUNCIL, abolished="2023-03")
    assert diagnose(facts(gone), "ai").findings[0].verdict == "not_met"


def test_finding_2_weak_budget_advice_is_partial_and_binding_memo_is_met() -> None:
    advising = replace(COUNCIL, mandates=(*COUNCIL.mandates, MandateFact("budgetary", "advise")))
    assert verdicts(facts(advising))[1] == "partial"
    memo = replace(
        COUNCIL,
        mandates=(
            *COUNCIL.mandates,
            MandateFact("budgetary", "coordinate", instrument="Priorities memo", binding=True),
        ),
    )
    result = diagnose(facts(memo), "ai").findings[1]
    assert result.verdict == "met"
    assert any("Priorities memo" in e.text for e in result.evidence)


def test_finding_2_met_by_a_funding_relation_and_not_met_without_any_money() -> None:
    fund = BodyFact(key="fund", name="Fund", level="agency", kind="funding_instrument")
    m = facts(COUNCIL, fund, relations=[RelationFact("council", "fund", "funds")])
    assert diagnose(m, "ai").findings[1].verdict == "met"
    bare = diagnose(facts(COUNCIL), "ai").findings[1]
    assert bare.verdict == "not_met"
    assert "Council" in bare.gaps[0]


def test_finding_3_advisory_body_must_advise_a_top_body_on_the_field() -> None:
    panel = BodyFact(
        key="panel",
        name="Panel",
        level="advisory",
        kind="advisory_committee",
        mandates=(MandateFact("technical", "advise", scope=("quantum",)),),
    )
    m = facts(COUNCIL, panel, FINANCE, relations=[RelationFact("panel", "council", "advises")])
    assert diagnose(m, "quantum").findings[2].verdict == "met"
    assert diagnose(m, "ai").findings[2].verdict == "partial"
    to_ministry = facts(
        COUNCIL, panel, FINANCE, relations=[RelationFact("panel", "finance", "advises")]
    )
    assert diagnose(to_ministry, "quantum").findings[2].verdict == "partial"
    assert diagnose(facts(COUNCIL), "ai").findings[2].verdict == "not_met"


def test_finding_3_expert_members_inside_the_top_body_count() -> None:
    experts = replace(
        COUNCIL, seats=(*COUNCIL.seats, SeatFact("member", "expert_academia", "Experts", count=7))
    )
    result = diagnose(facts(experts), "ai").findings[2]
    assert result.verdict == "met"
    assert result.evidence[0].path == "bodies/council/seats[3]"


def test_finding_4_needs_ministries_industry_and_academia_somewhere_in_the_procedure() -> None:
    stages = (
        StageFact("rfi", "RFI", "council", channels=("rfi",)),
        StageFact("draft", "Draft", "council"),
    )
    plan = ProcedureFact("plan", "Plan", fields=("ai",), stages=stages)
    result = diagnose(facts(COUNCIL, procedures=[plan]), "ai").findings[3]
    # the council seats two ministers, so any stage it runs brings in the ministries
    assert result.verdict == "met"
    groups = {e.text.split(":")[0] for e in result.evidence}
    assert groups == {"ministries", "industry", "academia"}

    lone = BodyFact(key="office", name="Office", level="supra_ministerial", kind="secretariat")
    only_office = ProcedureFact("plan", "Plan", stages=(StageFact("s", "S", "office"),))
    result = diagnose(facts(lone, procedures=[only_office]), "ai").findings[3]
    assert result.verdict == "not_met"
    assert result.gaps == (
        "procedure 'Plan' brings in no ministries, industry, academia at any stage",
    )


def test_finding_4_not_met_when_no_procedure_covers_the_field() -> None:
    plan = ProcedureFact("q", "Quantum plan", fields=("quantum",))
    result = diagnose(facts(COUNCIL, procedures=[plan]), "ai").findings[3]
    assert (result.verdict, result.gaps) == (
        "not_met",
        ("no procedure template covers this field",),
    )


def test_checks_report_composition_and_missing_decision_rules() -> None:
    broken = replace(COUNCIL, composition=("members <= 1",))
    decider = BodyFact(
        key="board",
        name="Board",
        level="agency",
        kind="council",
        seats=(SeatFact("member", "official", "Official"),),
        mandates=(MandateFact("technical", "decide"),),
    )
    checks = {(c.body, c.kind): c for c in diagnose(facts(broken, decider), "ai").checks}
    assert not checks[("council", "composition")].holds
    assert checks[("council", "decision")].holds
    assert not checks[("board", "decision")].holds


def test_unknown_field_is_noted_but_still_diagnosed() -> None:
    result = diagnose(facts(COUNCIL), "space")
    assert result.notes and "space" in result.notes[0]
    assert result.findings[0].verdict == "partial"
