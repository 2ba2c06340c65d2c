"""Allocation LP: which solver, and how much of the time is ours.

Target (issue 4): 10,000 programs across 100 fields with 20,000 constraints solved under 5 s,
our overhead around the solver under 20% of the solve time. Builds one synthetic problem per
size (programs funding 1-5 fields each, last year -/+10% per program, floors and ceilings for
every agency, minimum shares and capacities for a tenth of the fields, four diminishing-returns
segments per field) and solves the same LP with every candidate:

- scipy.optimize.linprog, methods ``highs`` (HiGHS chooses), ``highs-ds``, ``highs-ipm``;
- highspy (HiGHS directly), default and ``solver=simplex`` / ``ipm`` / ``pdlp``;
- OR-Tools GLOP through ``model_builder_helper.fill_model_from_sparse_data`` (our arrays);
- OR-Tools GLOP through pywraplp's natural API (one Python call per variable and term),
  to show what model building in Python costs;

then times :func:`stcoord.analytics.allocation.allocate` end to end with each of its solvers,
splitting our overhead from the solver's run.

    .venv/bin/python benchmarks/bench_allocation.py [--sizes 1000x50 10000x100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from benchlib import note, timed, verdict

from stcoord.analytics.allocation import (
    AgencyLimit,
    Allocation,
    AllocationProblem,
    FieldLimit,
    FieldPriority,
    LinearProgram,
    Program,
    Segment,
    allocate,
    find_conflict,
    formulate,
    linprog_form,
    with_last_year_band,
)

Runner = Callable[[LinearProgram], tuple[float, float, float]]  # build s, solve s, objective


def synthetic_problem(
    n_programs: int, n_fields: int, n_agencies: int = 50, seed: int = 7
) -> AllocationProblem:
    """A realistic-looking, feasible problem (the envelope is 2% above last year's total)."""
    rng = np.random.default_rng(seed)
    fields = [f"f{i:03d}" for i in range(n_fields)]
    last_year = rng.lognormal(mean=3.0, sigma=1.0, size=n_programs).round(2)
    agency = rng.integers(0, n_agencies, size=n_programs)
    programs = []
    field_money = np.zeros(n_fields)
    for i in range(n_programs):
        funded = rng.choice(n_fields, size=rng.integers(1, 6), replace=False)
        shares = rng.dirichlet(np.ones(funded.size)).round(4)
        shares[-1] = round(1.0 - shares[:-1].sum(), 4)
        field_money[funded] += shares * last_year[i]
        programs.append(
            Program(
                f"p{i:05d}",
                f"agency{agency[i]:02d}",
                float(last_year[i]),
                {fields[f]: float(s) for f, s in zip(funded, shares, strict=True)},
            )
        )
    weights = rng.dirichlet(np.ones(n_fields))
    priorities = tuple(
        FieldPriority(
            f,
            float(w),
            tuple(
                Segment(math.inf if k == 3 else max(money, 1.0) * 0.5, s)
                for k, s in enumerate((1.0, 0.6, 0.3, 0.1))
            ),
        )
        for f, w, money in zip(fields, weights, field_money, strict=True)
    )
    totals = np.bincount(agency, weights=last_year, minlength=n_agencies)
    agency_limits = tuple(
        AgencyLimit(f"agency{a:02d}", floor=0.95 * t, ceiling=1.08 * t)
        for a, t in enumerate(totals)
        if t > 0
    )
    envelope = 1.02 * float(last_year.sum())
    targeted = rng.choice(n_fields, size=max(1, n_fields // 10), replace=False)
    field_limits = tuple(
        FieldLimit(
            fields[f],
            min_share=0.9 * field_money[f] / envelope,
            capacity=1.15 * field_money[f] if k % 2 else None,
        )
        for k, f in enumerate(targeted)
    )
    return AllocationProblem(
        with_last_year_band(programs, 0.10),
        priorities,
        envelope,
        agency_limits=agency_limits,
        field_limits=field_limits,
    )


def linprog_runner(method: str) -> Runner:
    from scipy.optimize import linprog

    def run(lp: LinearProgram) -> tuple[float, float, float]:
        form, build = timed(lambda: linprog_form(lp))
        res, solve = timed(
            lambda: linprog(
                -lp.objective,
                A_ub=form.a_ub,
                b_ub=form.b_ub,
                A_eq=form.a_eq,
                b_eq=form.b_eq,
                bounds=np.column_stack([lp.col_lower, lp.col_upper]),
                method=method,
            )
        )
        return build, solve, -res.fun if res.status == 0 else math.nan

    return run


def highspy_runner(algorithm: str | None) -> Runner:
    import highspy

    def run(lp: LinearProgram) -> tuple[float, float, float]:
        start = time.perf_counter()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if algorithm:
            h.setOptionValue("solver", algorithm)
        csc = lp.matrix.tocsc()
        model = highspy.HighsLp()
        model.num_row_, model.num_col_ = csc.shape
        model.sense_ = highspy.ObjSense.kMaximize
        model.col_cost_, model.col_lower_, model.col_upper_ = (
            lp.objective,
            lp.col_lower,
            lp.col_upper,
        )
        model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_, model.a_matrix_.index_ = csc.indptr, csc.indices
        model.a_matrix_.value_ = csc.data
        h.passModel(model)
        built = time.perf_counter()
        h.run()
        solved = time.perf_counter()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        return (
            built - start,
            solved - built,
            h.getInfo().objective_function_value if ok else math.nan,
        )

    return run


def glop_arrays(lp: LinearProgram) -> tuple[float, float, float]:
    from ortools.linear_solver.python import model_builder_helper as mbh

    start = time.perf_counter()
    model = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        lp.col_lower, lp.col_upper, lp.objective, lp.row_lower, lp.row_upper, lp.matrix
    )
    model.set_maximize(True)
    solver = mbh.ModelSolverHelper("glop")
    built = time.perf_counter()
    solver.solve(model)
    solved = time.perf_counter()
    ok = solver.status() == mbh.SolveStatus.OPTIMAL
    return built - start, solved - built, solver.objective_value() if ok else math.nan


def glop_pywraplp(lp: LinearProgram) -> tuple[float, float, float]:
    """The natural API: the loops a hand-written model would run."""
    from ortools.linear_solver import pywraplp

    start = time.perf_counter()
    solver = pywraplp.Solver.CreateSolver("GLOP")
    inf = solver.infinity()
    lo = np.where(np.isinf(lp.col_lower), -inf, lp.col_lower).tolist()
    hi = np.where(np.isinf(lp.col_upper), inf, lp.col_upper).tolist()
    variables = [solver.NumVar(a, b, "") for a, b in zip(lo, hi, strict=True)]
    row_lo = np.where(np.isinf(lp.row_lower), -inf, lp.row_lower).tolist()
    row_hi = np.where(np.isinf(lp.row_upper), inf, lp.row_upper).tolist()
    matrix = lp.matrix
    for r in range(matrix.shape[0]):
        ct = solver.Constraint(row_lo[r], row_hi[r])
        lo_i, hi_i = matrix.indptr[r], matrix.indptr[r + 1]
        for j, v in zip(
            matrix.indices[lo_i:hi_i].tolist(), matrix.data[lo_i:hi_i].tolist(), strict=True
        ):
            ct.SetCoefficient(variables[j], v)
    objective = solver.Objective()
    for var, c in zip(variables, lp.objective.tolist(), strict=True):
        if c:
            objective.SetCoefficient(var, c)
    objective.SetMaximization()
    built = time.perf_counter()
    status = solver.Solve()
    solved = time.perf_counter()
    ok = status == pywraplp.Solver.OPTIMAL
    return built - start, solved - built, objective.Value() if ok else math.nan


CANDIDATES: dict[str, Runner] = {
    "linprog highs": linprog_runner("highs"),
    "linprog highs-ds": linprog_runner("highs-ds"),
    "linprog highs-ipm": linprog_runner("highs-ipm"),
    "highspy default": highspy_runner(None),
    "highspy simplex": highspy_runner("simplex"),
    "highspy ipm": highspy_runner("ipm"),
    "highspy pdlp": highspy_runner("pdlp"),
    "glop (arrays)": glop_arrays,
    "glop (pywraplp loops)": glop_pywraplp,
}


def bounds_as_rows(lp: LinearProgram, n_programs: int) -> LinearProgram:
    """The same LP with the programs' floors and ceilings written as 10,000 ranged rows instead
    of column bounds: the formulation a model written constraint by constraint ends up with."""
    identity = sp.identity(lp.matrix.shape[1], format="csr")[:n_programs]
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    col_lower[:n_programs], col_upper[:n_programs] = 0.0, np.inf
    return LinearProgram(
        lp.objective,
        sp.csr_matrix(sp.vstack([lp.matrix, identity])),
        np.concatenate([lp.row_lower, lp.col_lower[:n_programs]]),
        np.concatenate([lp.row_upper, lp.col_upper[:n_programs]]),
        col_lower,
        col_upper,
    )


def describe(problem: AllocationProblem) -> str:
    fm = formulate(problem)
    lp = fm.lp
    return (
        f"{len(problem.programs):,} programs, {len(problem.priorities)} fields, "
        f"{len(fm.constraints):,} named constraints; LP {lp.matrix.shape[0]:,} rows x "
        f"{lp.matrix.shape[1]:,} columns, {lp.matrix.nnz:,} nonzeros"
    )


def measure(runner: Runner, lp: LinearProgram) -> tuple[float, float, float, float]:
    """Build s, solve s (wall), CPU s of both (this process, all threads), objective."""
    cpu = time.process_time()
    build, solve, objective = runner(lp)
    return build, solve, time.process_time() - cpu, objective


def compare(title: str, lp: LinearProgram, names: list[str], repeat: int) -> dict[str, float]:
    """Every candidate on ``lp``, interleaved run by run so that load from other processes on
    the machine falls on all of them alike; medians (and the best solve) per candidate."""
    runs: dict[str, list[tuple[float, float, float, float]]] = {n: [] for n in names}
    for _ in range(repeat):
        for name in names:
            runs[name].append(measure(CANDIDATES[name], lp))
    note(f"-- {title}")
    note(
        f"{'candidate':24} {'build ms':>9} {'solve ms':>9} {'best':>8} {'CPU ms':>8} "
        f"{'objective':>14}"
    )
    medians = {}
    for name in names:
        build, solve, cpu = (statistics.median(r[i] for r in runs[name]) for i in range(3))
        best = min(r[1] for r in runs[name])
        medians[name] = solve
        note(
            f"{name:24} {build * 1000:9.1f} {solve * 1000:9.1f} {best * 1000:8.1f} "
            f"{cpu * 1000:8.1f} {runs[name][0][3]:14.6f}"
        )
    return medians


def bench_size(n_programs: int, n_fields: int, repeat: int, skip: set[str]) -> dict[str, float]:
    problem, seconds = timed(lambda: synthetic_problem(n_programs, n_fields))
    note(f"\n== {n_programs:,} x {n_fields}: {describe(problem)} (generated in {seconds:.1f} s)")
    fm, formulate_s = timed(lambda: formulate(problem))
    note(f"formulate (validate + build arrays): {formulate_s * 1000:.1f} ms")
    names = [n for n in CANDIDATES if n not in skip]
    compare("the LP as formulated (program limits as column bounds)", fm.lp, names, repeat)
    rows = bounds_as_rows(fm.lp, n_programs)
    fast = [n for n in names if "pywraplp" not in n and "pdlp" not in n]
    compare(f"program limits as {n_programs:,} ranged rows instead", rows, fast, repeat)
    zero = replace(fm.lp, objective=np.zeros_like(fm.lp.objective))
    compare("feasibility only (zero objective, as in the conflict search)", zero, fast, repeat)
    return end_to_end(problem, repeat)


def end_to_end(problem: AllocationProblem, repeat: int) -> dict[str, float]:
    """allocate() with each solver: our time (everything but the solver's run) against it.

    Only the figures of each run are kept, not the results: holding a dozen results of
    60,000 entries each would make every garbage collection slower and bill it to us."""
    medians: dict[str, float] = {}
    runs: dict[str, list[tuple[float, float]]] = {"glop": [], "highs": []}
    last: dict[str, Allocation] = {}
    for _ in range(repeat):
        for solver in runs:
            result = allocate(problem, solver=solver)  # type: ignore[arg-type]
            runs[solver].append((result.build_seconds, result.solve_seconds))
            last[solver] = result
            del result
    for solver, figures in runs.items():
        ours = statistics.median(f[0] for f in figures)
        solve = statistics.median(f[1] for f in figures)
        ratio = statistics.median(f[0] / f[1] for f in figures)
        total = statistics.median(f[0] + f[1] for f in figures)
        medians[f"allocate {solver}"], medians[f"overhead {solver}"] = total, ratio
        note(
            f"allocate(solver={solver!r}): ours {ours * 1000:.1f} ms, "
            f"solver {solve * 1000:.1f} ms, "
            f"total {total * 1000:.1f} ms, ours/solver {ratio:.0%} (median of runs); "
            f"{last[solver].status}, objective {last[solver].objective:.6f}, "
            f"{len(last[solver].binding):,} binding"
        )
    return medians


def bench_conflict(n_programs: int, n_fields: int, max_solves: int) -> None:
    """Two infeasible variants of the big problem, explained with each solver."""
    problem = synthetic_problem(n_programs, n_fields)
    programs = list(problem.programs)
    first = programs[0]
    programs[0] = replace(first, capacity=0.5 * (first.floor or first.last_year))
    small = replace(problem, programs=tuple(programs))
    limits = list(problem.agency_limits)
    limits[0] = AgencyLimit(limits[0].agency, floor=2 * (limits[0].ceiling or 0.0))
    large = replace(problem, agency_limits=tuple(limits))
    cases = {
        "a program's floor above its capacity": small,
        "an agency's floor above all its programs' ceilings": large,
    }
    for label, bad in cases.items():
        for solver in ("glop", "highs"):
            fm = formulate(bad)
            conflict, seconds = timed(
                lambda s=solver, f=fm: find_conflict(f, solver=s, max_solves=max_solves)  # type: ignore[misc]
            )
            shown = ", ".join(conflict.constraints[:4]) + (
                ", ..." if len(conflict.constraints) > 4 else ""
            )
            note(
                f"conflict, {label}, {solver}: {len(conflict.constraints)} constraints "
                f"[{shown}], minimal={conflict.minimal}, {conflict.solves} solves, {seconds:.2f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", default=["1000x50", "10000x100"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target-seconds", type=float, default=5.0)
    parser.add_argument("--skip", nargs="*", default=[], help="candidate names to leave out")
    parser.add_argument("--no-conflict", action="store_true")
    parser.add_argument("--max-solves", type=int, default=200, help="conflict search budget")
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        n_p, n_f = (int(v) for v in size.split("x"))
        results[(n_p, n_f)] = bench_size(n_p, n_f, args.repeat, set(args.skip))
    if not args.no_conflict:
        bench_conflict(*max(results), args.max_solves)
    big = results[max(results)]
    for solver in ("glop", "highs"):
        verdict(
            f"allocate {max(results)} with {solver} under {args.target_seconds:g} s "
            f"(median {big[f'allocate {solver}']:.2f} s)",
            big[f"allocate {solver}"] < args.target_seconds,
        )
        verdict(
            f"our overhead with {solver} under 20% of its solve ({big[f'overhead {solver}']:.0%})",
            big[f"overhead {solver}"] < 0.20,
        )


if __name__ == "__main__":
    main()
