"""The allocation LP: hand-solved optima, prices checked against re-solves, conflicts, limits."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from stcoord.analytics.allocation import (
    AgencyLimit,
    Allocation,
    AllocationInputError,
    AllocationProblem,
    FieldLimit,
    FieldPriority,
    Program,
    Segment,
    SolverName,
    allocate,
    find_conflict,
    formulate,
    impose,
    solve_lp,
    with_last_year_band,
)

SOLVERS: tuple[SolverName, ...] = ("highs", "glop")
TOL = 1e-6


def two_programs(envelope: float = 205.0) -> AllocationProblem:
    """a funds ai (weight 0.7), b funds quantum (0.3), both 100 last year, -/+10%."""
    programs = with_last_year_band(
        [Program("a", "MEXT", 100.0, {"ai": 1.0}), Program("b", "METI", 100.0, {"quantum": 1.0})]
    )
    return AllocationProblem(
        programs, (FieldPriority("ai", 0.7), FieldPriority("quantum", 0.3)), envelope
    )


def objective(problem: AllocationProblem, solver: SolverName = "highs") -> float:
    result = allocate(problem, solver=solver, explain_infeasible=False)
    assert result.status == "optimal", result.message
    return result.objective


def random_problem(seed: int, n_programs: int = 40, n_fields: int = 6) -> AllocationProblem:
    """Continuous random data (so ties are unlikely), -/+10% bands, agency and field limits."""
    rng = np.random.default_rng(seed)
    fields = [f"f{i}" for i in range(n_fields)]
    programs = []
    for i in range(n_programs):
        funded = rng.choice(n_fields, size=int(rng.integers(1, 4)), replace=False)
        shares = rng.dirichlet(np.ones(funded.size)) * rng.uniform(0.8, 1.0)
        programs.append(
            Program(
                f"p{i}",
                f"ag{i % 4}",
                float(rng.uniform(5, 50)),
                {fields[f]: float(s) for f, s in zip(funded, shares, strict=True)},
                capacity=float(rng.uniform(40, 60)) if i % 7 == 0 else None,
            )
        )
    programs = list(with_last_year_band(programs, 0.10))
    last = sum(p.last_year for p in programs)
    priorities = tuple(
        FieldPriority(
            f,
            float(rng.uniform(0.2, 1.0)),
            (
                Segment(float(rng.uniform(20, 80)), 1.0),
                Segment(float(rng.uniform(20, 80)), float(rng.uniform(0.4, 0.8))),
                Segment(math.inf, float(rng.uniform(0.05, 0.3))),
            ),
        )
        for f in fields
    )
    agency_totals = {a: sum(p.last_year for p in programs if p.agency == a) for a in ("ag0", "ag1")}
    return AllocationProblem(
        tuple(programs),
        priorities,
        envelope=float(last * rng.uniform(0.97, 1.05)),
        agency_limits=(
            AgencyLimit("ag0", ceiling=1.02 * agency_totals["ag0"]),
            AgencyLimit("ag1", floor=0.98 * agency_totals["ag1"]),
        ),
        field_limits=(FieldLimit("f0", min_share=0.05),),
    )


# --- a problem small enough to solve by hand ----------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_hand_solved_optimum_binding_constraints_and_prices(solver: SolverName) -> None:
    # ai is worth 0.7 a unit, quantum 0.3: a goes to its ceiling 110, b takes the rest (95).
    result = allocate(two_programs(), solver=solver)
    assert result.status == "optimal"
    assert result.allocation == pytest.approx({"a": 110.0, "b": 95.0})
    assert result.objective == pytest.approx(0.7 * 110 + 0.3 * 95)
    assert result.total == pytest.approx(205.0)
    assert result.agency_totals == pytest.approx({"MEXT": 110.0, "METI": 95.0})
    assert result.field_totals == pytest.approx({"ai": 110.0, "quantum": 95.0})
    assert [b.name for b in result.binding] == ["program_ceiling:a", "envelope"]
    # One more unit of envelope goes to b (0.3); one more unit of a's ceiling moves a unit
    # from b to a (0.7 - 0.3).
    assert result.envelope_shadow_price == pytest.approx(0.3)
    assert result.shadow_prices["program_ceiling:a"] == pytest.approx(0.4)
    for name in ("program_floor:a", "program_floor:b", "program_ceiling:b"):
        assert result.shadow_prices[name] == 0.0
    assert result.slacks["program_floor:a"] == pytest.approx(20.0)
    assert result.slacks["program_floor:b"] == pytest.approx(5.0)
    assert result.slacks["program_ceiling:b"] == pytest.approx(15.0)
    assert result.binding[0].description == "program a gets at most 110"
    assert result.binding[0].slack == pytest.approx(0.0, abs=TOL)
    assert result.field_marginal_values == pytest.approx({"ai": 0.7, "quantum": 0.3})


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_binding_floor_has_a_negative_price_equal_to_the_re_solved_change(
    solver: SolverName,
) -> None:
    # Envelope 195: a is at its ceiling 110, b at... 85 < floor 90, so a gives way: a = 105.
    problem = two_programs(envelope=195.0)
    result = allocate(problem, solver=solver)
    assert result.allocation == pytest.approx({"a": 105.0, "b": 90.0})
    price = result.shadow_prices["program_floor:b"]
    assert price == pytest.approx(-0.4)  # a unit more for b is a unit less for a
    raised = replace(
        problem, programs=(problem.programs[0], replace(problem.programs[1], floor=91.0))
    )
    assert objective(raised, solver) - result.objective == pytest.approx(price)


@pytest.mark.parametrize("solver", SOLVERS)
def test_diminishing_returns_spread_money_across_fields(solver: SolverName) -> None:
    programs = (Program("a", "X", 50.0, {"ai": 1.0}), Program("b", "Y", 50.0, {"bio": 1.0}))
    linear = AllocationProblem(
        programs, (FieldPriority("ai", 0.6), FieldPriority("bio", 0.4)), envelope=100.0
    )
    assert allocate(linear, solver=solver).allocation == pytest.approx({"a": 100.0, "b": 0.0})

    curve = (1.0, 0.5, 0.25)
    diminishing = replace(
        linear,
        priorities=(
            FieldPriority.diminishing("ai", 0.6, step=30.0, slopes=curve),
            FieldPriority.diminishing("bio", 0.4, step=30.0, slopes=curve),
        ),
    )
    result = allocate(diminishing, solver=solver)
    # Marginal values: ai 0.6, 0.3, 0.15; bio 0.4, 0.2, 0.1 per unit. The 100 units go to the
    # best 100: ai's first 30 (0.6), bio's first 30 (0.4), ai's second 30 (0.3), then 10 more
    # at 0.2 in bio (ai's third segment is worth only 0.15).
    assert result.allocation == pytest.approx({"a": 60.0, "b": 40.0})
    assert result.objective == pytest.approx(0.6 * 30 + 0.4 * 30 + 0.3 * 30 + 0.2 * 10)
    assert result.envelope_shadow_price == pytest.approx(0.2)
    assert result.field_marginal_values["bio"] == pytest.approx(0.2)


@pytest.mark.parametrize("solver", SOLVERS)
def test_money_beyond_the_last_finite_segment_earns_nothing(solver: SolverName) -> None:
    problem = AllocationProblem(
        (Program("a", "X", 10.0, {"ai": 1.0}),),
        (FieldPriority("ai", 1.0, (Segment(30.0, 1.0),)),),
        envelope=100.0,
    )
    result = allocate(problem, solver=solver)
    assert result.objective == pytest.approx(30.0)
    assert result.allocation["a"] >= 30.0 - TOL
    spent = allocate(replace(problem, spend_all=True), solver=solver)
    assert spent.total == pytest.approx(100.0)
    assert spent.objective == pytest.approx(30.0)


# --- the limits hold ------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("seed", range(4))
def test_ten_percent_bands_and_agency_limits_are_respected(solver: SolverName, seed: int) -> None:
    problem = random_problem(seed)
    result = allocate(problem, solver=solver)
    assert result.status == "optimal", result.message
    for program in problem.programs:
        amount = result.allocation[program.key]
        assert 0.9 * program.last_year - TOL <= amount <= 1.1 * program.last_year + TOL
        if program.capacity is not None:
            assert amount <= program.capacity + TOL
    assert result.total <= problem.envelope + TOL
    limits = {limit.agency: limit for limit in problem.agency_limits}
    assert result.agency_totals["ag0"] <= (limits["ag0"].ceiling or 0) + TOL
    assert result.agency_totals["ag1"] >= (limits["ag1"].floor or 0) - TOL
    assert sum(result.agency_totals.values()) == pytest.approx(result.total)


@pytest.mark.parametrize("solver", SOLVERS)
def test_minimum_field_shares_are_respected_and_priced(solver: SolverName) -> None:
    programs = (Program("a", "X", 50.0, {"ai": 1.0}), Program("b", "Y", 50.0, {"bio": 1.0}))
    problem = AllocationProblem(
        programs,
        (FieldPriority("ai", 0.8), FieldPriority("bio", 0.2)),
        envelope=100.0,
        field_limits=(FieldLimit("bio", min_share=0.3),),
    )
    result = allocate(problem, solver=solver)
    assert result.field_totals["bio"] == pytest.approx(30.0)  # held up by its minimum share
    assert result.field_totals["ai"] == pytest.approx(70.0)
    assert "field_min_share:bio" in [b.name for b in result.binding]
    # Each unit of bio's minimum moves a unit from ai (0.8) to bio (0.2).
    assert result.shadow_prices["field_min_share:bio"] == pytest.approx(-0.6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_field_and_program_capacities_cap_the_money(solver: SolverName) -> None:
    programs = (
        Program("a", "X", 50.0, {"ai": 1.0}, capacity=80.0),
        Program("a2", "X", 50.0, {"ai": 1.0}),
        Program("b", "Y", 50.0, {"bio": 1.0}),
    )
    problem = AllocationProblem(
        programs,
        (FieldPriority("ai", 0.8), FieldPriority("bio", 0.2)),
        envelope=100.0,
        field_limits=(FieldLimit("ai", capacity=60.0),),
    )
    result = allocate(problem, solver=solver)
    assert result.field_totals["ai"] == pytest.approx(60.0)
    assert result.allocation["b"] == pytest.approx(40.0)
    assert result.shadow_prices["field_capacity:ai"] == pytest.approx(0.6)
    assert result.shadow_prices["program_capacity:a"] == 0.0  # the field's capacity binds first


# --- the two solvers agree, and the prices are the marginal values -------------------------


def finite_difference(problem: AllocationProblem, step: float) -> tuple[float, float]:
    """Left and right derivatives of the optimum with respect to the envelope."""
    base = objective(problem)
    up = objective(replace(problem, envelope=problem.envelope + step))
    down = objective(replace(problem, envelope=problem.envelope - step))
    return (base - down) / step, (up - base) / step


def test_solvers_agree_and_envelope_prices_match_re_solves() -> None:
    checked = 0
    for seed in range(10):
        problem = random_problem(seed)
        results = {s: allocate(problem, solver=s) for s in SOLVERS}
        assert results["highs"].objective == pytest.approx(results["glop"].objective, rel=1e-7)
        left, right = finite_difference(problem, step=1e-3)
        if abs(left - right) > 1e-6:
            continue  # a kink: any price between the two is a valid dual, and they may differ
        checked += 1
        for result in results.values():
            assert result.envelope_shadow_price == pytest.approx(right, abs=1e-6)
    assert checked >= 5, "too few problems where the envelope price is unique"


def test_solvers_agree_on_agency_limit_prices_where_unique() -> None:
    checked = 0
    for seed in range(10):
        problem = random_problem(seed)
        results = {s: allocate(problem, solver=s) for s in SOLVERS}
        limit = problem.agency_limits[0]  # ag0's ceiling
        step = 1e-3
        moved = [
            objective(replace(problem, agency_limits=(replace(limit, ceiling=c), *rest)))
            for c in ((limit.ceiling or 0) - step, (limit.ceiling or 0) + step)
            for rest in [problem.agency_limits[1:]]
        ]
        base = results["highs"].objective
        left, right = (base - moved[0]) / step, (moved[1] - base) / step
        if abs(left - right) > 1e-6:
            continue
        checked += 1
        for result in results.values():
            assert result.shadow_prices["agency_ceiling:ag0"] == pytest.approx(right, abs=1e-6)
    assert checked >= 5


def test_prices_follow_the_sign_convention() -> None:
    for seed in range(6):
        result = allocate(random_problem(seed))
        for b in result.binding:
            if b.sense == "<=":
                assert b.shadow_price >= 0, b
            elif b.sense == ">=":
                assert b.shadow_price <= 0, b
        for name, slack in result.slacks.items():
            assert slack >= 0
            if slack > 1e-3:
                assert result.shadow_prices[name] == 0.0


# --- infeasibility --------------------------------------------------------------------------


def feasible_with_only(problem: AllocationProblem, names: set[str], solver: SolverName) -> bool:
    fm = formulate(problem)
    active = np.array([n in names for n in fm.constraints.names])
    lp = impose(fm.structural, fm.constraints, active)
    lp = replace(lp, objective=np.zeros_like(lp.objective))  # feasibility only
    status = solve_lp(lp, solver).status
    assert status in ("optimal", "infeasible")
    return status == "optimal"


def floors_above_envelope() -> AllocationProblem:
    programs = (
        Program("a", "X", 40.0, {"ai": 1.0}, floor=40.0, ceiling=44.0),
        Program("b", "Y", 40.0, {"bio": 1.0}, floor=40.0, ceiling=44.0),
        Program("c", "Y", 40.0, {"bio": 1.0}, ceiling=44.0),  # no floor: not involved
    )
    return AllocationProblem(
        programs,
        (FieldPriority("ai", 0.5), FieldPriority("bio", 0.5)),
        envelope=70.0,
        agency_limits=(AgencyLimit("Y", ceiling=200.0),),
        field_limits=(FieldLimit("ai", capacity=100.0),),
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_floors_above_the_envelope_conflict_exactly(solver: SolverName) -> None:
    problem = floors_above_envelope()
    result = allocate(problem, solver=solver)
    assert result.status == "infeasible"
    assert result.allocation == {}
    assert math.isnan(result.objective)
    conflict = result.conflict
    assert conflict is not None and conflict.minimal
    expected = {"envelope", "program_floor:a", "program_floor:b"}
    assert set(conflict.constraints) == expected
    assert "The floors add up to 80, above the envelope of 70." in conflict.explanation
    assert result.message == conflict.explanation
    # Infeasible with only these; feasible once any one of them goes.
    assert not feasible_with_only(problem, expected, solver)
    for name in expected:
        assert feasible_with_only(problem, expected - {name}, solver)


@pytest.mark.parametrize("solver", SOLVERS)
def test_conflict_search_works_with_either_solver(solver: SolverName) -> None:
    conflict = find_conflict(formulate(floors_above_envelope()), solver=solver)
    assert set(conflict.constraints) == {"envelope", "program_floor:a", "program_floor:b"}
    assert conflict.minimal


def test_an_agency_floor_above_its_programs_ceilings_is_explained_by_group() -> None:
    programs = [Program(f"p{i}", "A", 10.0, {"ai": 1.0}, ceiling=11.0) for i in range(8)]
    programs.append(Program("q", "B", 10.0, {"ai": 1.0}, ceiling=11.0))
    problem = AllocationProblem(
        tuple(programs),
        (FieldPriority("ai", 1.0),),
        envelope=1000.0,
        agency_limits=(AgencyLimit("A", floor=100.0),),
    )
    conflict = allocate(problem).conflict
    assert conflict is not None and conflict.minimal
    assert set(conflict.constraints) == {"agency_floor:A"} | {
        f"program_ceiling:p{i}" for i in range(8)
    }
    assert "the ceilings of 8 programs of agency A (p0, p1, p2, ...), together 88" in (
        conflict.explanation
    )


def test_a_minimum_share_no_program_can_fund_conflicts_alone() -> None:
    problem = AllocationProblem(
        (Program("a", "X", 10.0, {"ai": 1.0}),),
        (FieldPriority("ai", 1.0), FieldPriority("bio", 1.0)),
        envelope=100.0,
        field_limits=(FieldLimit("bio", min_share=0.1),),
    )
    conflict = allocate(problem).conflict
    assert conflict is not None and conflict.constraints == ("field_min_share:bio",)


def test_an_exhausted_search_budget_still_returns_a_conflicting_set() -> None:
    programs = tuple(Program(f"p{i}", "A", 10.0, {"ai": 1.0}, floor=10.0) for i in range(30))
    problem = AllocationProblem(programs, (FieldPriority("ai", 1.0),), envelope=100.0)
    conflict = allocate(problem, max_conflict_solves=5).conflict
    assert conflict is not None and not conflict.minimal
    assert "may too" in conflict.explanation
    assert not feasible_with_only(problem, set(conflict.constraints), "glop")
    # With enough solves: the envelope and 11 floors (110 > 100) and no more.
    full = allocate(problem, max_conflict_solves=500).conflict
    assert full is not None and full.minimal
    assert len(full.constraints) == 12 and "envelope" in full.constraints


# --- input errors ---------------------------------------------------------------------------


def test_every_input_problem_is_listed_at_once() -> None:
    problem = AllocationProblem(
        (
            Program("a", "X", 10.0, {"ai": 0.7, "typo": 0.3}),
            Program("a", "X", -1.0, {"ai": 0.8, "bio": 0.4}, floor=-5.0),
        ),
        (
            FieldPriority("ai", 1.0),
            FieldPriority("bio", -1.0, (Segment(10.0, 0.5), Segment(math.inf, 0.9))),
        ),
        envelope=math.inf,
        agency_limits=(AgencyLimit("Nobody", floor=1.0),),
        field_limits=(FieldLimit("ai", min_share=1.5),),
    )
    with pytest.raises(AllocationInputError) as caught:
        allocate(problem)
    problems = caught.value.problems
    expected = [
        "envelope must be a finite amount >= 0",
        "field 'bio': weight must be finite and >= 0",
        "field 'bio': slopes must not increase",
        "program 'a': key used twice",
        "program 'a': last_year must be >= 0",
        "program 'a': floor must be >= 0",
        "share for field 'typo', which has no priority",
        "program 'a': shares sum to more than 1",
        "agency limit 'Nobody': no program of this agency",
        "field limit 'ai': min_share must be between 0 and 1",
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)


def test_unknown_solver_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown solver"):
        allocate(two_programs(), solver="cbc")  # type: ignore[arg-type]


def test_binding_constraints_read_like_a_sequence() -> None:
    binding = allocate(two_programs()).binding
    assert len(binding) == 2
    assert binding[-1].name == "envelope" and binding[-1].sense == "<="
    assert [b.name for b in binding[:1]] == ["program_ceiling:a"]
    assert list(binding) == [binding[0], binding[1]]
    with pytest.raises(IndexError):
        binding[2]


def test_results_are_frozen_and_report_timings() -> None:
    result = allocate(two_programs())
    assert isinstance(result, Allocation)
    with pytest.raises(AttributeError):
        result.status = "error"  # type: ignore[misc]
    assert result.build_seconds >= 0 and result.solve_seconds > 0


def test_spending_all_of_an_envelope_the_ceilings_cannot_hold_conflicts() -> None:
    programs = (
        Program("a", "X", 40.0, {"ai": 1.0}, ceiling=44.0),
        Program("b", "Y", 40.0, {"ai": 1.0}, ceiling=44.0),
    )
    problem = AllocationProblem(programs, (FieldPriority("ai", 1.0),), 100.0, spend_all=True)
    assert allocate(replace(problem, spend_all=False)).total == pytest.approx(88.0)
    conflict = allocate(problem).conflict
    assert conflict is not None
    assert set(conflict.constraints) == {"envelope", "program_ceiling:a", "program_ceiling:b"}
    assert "all programs together get exactly the envelope of 100" in conflict.explanation


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_time_limit_is_passed_to_the_solver(solver: SolverName) -> None:
    assert allocate(two_programs(), solver=solver, time_limit=30.0).status == "optimal"
