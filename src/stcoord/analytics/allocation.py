"""Allocate a budget envelope across programs by priority, with diminishing returns per field.

The linear program
------------------
Each :class:`Program` gets an amount ``x_p``; it funds fields in fixed ``shares``, so the money
in field ``f`` is ``m_f = sum_p share_pf * x_p``. The value of that money is piecewise linear
and concave: the field's :class:`Segment` s are filled in order, segment ``k`` of width ``W_k``
earning ``weight_f * slope_k`` per unit, slopes non-increasing (the first money in a field is
worth the most). With ``y_fk`` the money counted in segment ``k`` of field ``f``::

    maximise   sum_f weight_f * sum_k slope_fk * y_fk
    subject to sum_p share_pf * x_p - m_f = 0          (field money, one row per field)
               sum_k y_fk - m_f <= 0                    (value only from money that is there)
               0 <= y_fk <= W_fk
               sum_p x_p <= envelope                    (== with spend_all=True)
               floor_p <= x_p <= min(ceiling_p, capacity_p)          (column bounds)
               agency floor <= sum_{p in agency} x_p <= agency ceiling
               min_share_f * envelope <= m_f <= field capacity        (column bounds)

Concavity is what keeps this an LP: the maximiser fills a field's dearer segment before a
cheaper one by itself, with no integer variables. Beyond the last segment (when its width is
finite) money earns nothing. Program and field limits are column bounds, not rows: 10,000
programs with floors and ceilings add 20,000 constraints but no rows, which is what keeps the
solve fast (see benchmarks/bench_allocation.py and docs/performance.md).

Named constraints, slack and shadow prices
------------------------------------------
Every constraint a user can relax has a name: ``envelope``, ``program_floor:<key>``,
``program_ceiling:<key>``, ``program_capacity:<key>``, ``agency_floor:<agency>``,
``agency_ceiling:<agency>``, ``field_min_share:<field>``, ``field_capacity:<field>``.

**Sign convention.** The shadow price of a constraint is the increase of the objective per unit
increase of its right-hand side. A binding ceiling, capacity or ``<=`` envelope has a price
>= 0 (more room, more value); a binding floor or minimum share a price <= 0 (a higher floor
forces money where it is worth less); a constraint with slack has price 0. Slack is >= 0, in
money. GLOP runs the maximisation, and its duals follow this convention as they are; HiGHS
(through scipy's linprog) minimises the negated objective, and its marginals are negated back.
The tests check both against finite differences of the re-solved objective. A minimum
share is priced per unit of money (``min_share * envelope``), not per unit of share.

Prices are marginal: they hold until another constraint starts or stops binding. At a kink (for
instance when the envelope exactly fills every program to its ceiling or floor) the left and
right derivatives differ and a solver may return any value between them; :func:`allocate`
reports the solver's dual. Where two constraints coincide (a ceiling equal to the capacity),
both report the price of the shared bound, although relaxing only one of them buys nothing.

Infeasibility
-------------
When no allocation satisfies every constraint, :func:`find_conflict` looks for an irreducible
infeasible subset (IIS) of the named constraints with a **deletion filter**: drop a block of
constraints and re-solve (feasibility only); if the rest is still infeasible the block stays
dropped, otherwise it is put back and split in halves, down to single constraints. A constraint
is kept only when dropping it alone made the problem feasible, and since dropping constraints
never makes a feasible problem infeasible, each kept constraint is still needed at the end: the
set is irreducible (remove any one and an allocation exists). Blocks cost about
``k * log2(n / k)`` solves for ``k`` conflicting constraints out of ``n`` instead of ``n``.

The filter runs twice: first over **groups** (the envelope, each agency or field limit, and the
floors, ceilings or capacities of each agency's programs as one group each), which is cheap and
already readable ("agency X's floor against the ceilings of its programs"); then inside the
groups it kept, down to single constraints, within ``max_solves``. If that budget runs out the
group-level set is returned with ``minimal=False``. Non-negativity and the definitions of field
money are structural and never reported.

Units: amounts (envelope, floors, allocation, slack, totals) are in the currency unit of the
inputs; the objective is in value units (weight x slope x money); shadow prices are value units
per currency unit.

>>> programs = (
...     Program("a", "MEXT", 100.0, {"ai": 1.0}, floor=90.0, ceiling=110.0),
...     Program("b", "METI", 100.0, {"quantum": 1.0}, floor=90.0, ceiling=110.0),
... )
>>> fields = (FieldPriority("ai", 0.7), FieldPriority("quantum", 0.3))
>>> result = allocate(AllocationProblem(programs, fields, envelope=205.0))
>>> result.status, result.allocation
('optimal', {'a': 110.0, 'b': 95.0})
>>> round(result.objective, 6), round(result.shadow_prices["envelope"], 6)
(105.5, 0.3)
>>> [(b.name, round(b.shadow_price, 6)) for b in result.binding]
[('program_ceiling:a', 0.4), ('envelope', 0.3)]
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain, pairwise, repeat
from operator import methodcaller
from typing import Any, Literal, NamedTuple, overload

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

SolverName = Literal["glop", "highs"]
Status = Literal["optimal", "infeasible", "unbounded", "error"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Sides of a named constraint on its row or column.
LOWER, UPPER, BOTH = 0, 1, 2
SENSE = {LOWER: ">=", UPPER: "<=", BOTH: "="}
# "Binding": slack within this share of the right-hand side (and of 1 for small ones).
BINDING_TOLERANCE = 1e-6


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A stretch of money in a field worth ``slope`` value units per currency unit."""

    width: float
    slope: float


@dataclass(frozen=True)
class FieldPriority:
    """A field's priority weight and its diminishing-returns curve (default: linear)."""

    field: str
    weight: float
    segments: tuple[Segment, ...] = (Segment(math.inf, 1.0),)

    @classmethod
    def diminishing(
        cls, field: str, weight: float, *, step: float, slopes: Sequence[float] = (1.0, 0.5, 0.25)
    ) -> FieldPriority:
        """Segments of width ``step`` at the given slopes, the last one without limit.

        >>> FieldPriority.diminishing("ai", 0.5, step=10.0, slopes=(1.0, 0.5)).segments
        (Segment(width=10.0, slope=1.0), Segment(width=inf, slope=0.5))
        """
        widths = [step] * (len(slopes) - 1) + [math.inf]
        return cls(field, weight, tuple(Segment(w, s) for w, s in zip(widths, slopes, strict=True)))


@dataclass(frozen=True)
class Program:
    """A budget program of one agency; ``shares`` maps field -> share of its money (sum <= 1).

    ``floor``/``ceiling`` bound its allocation (e.g. last year -/+ 10%: see
    :func:`with_last_year_band`); ``capacity`` is what it can absorb, another upper bound
    reported under its own name. ``None`` means no such bound.
    """

    key: str
    agency: str
    last_year: float
    shares: Mapping[str, float]
    floor: float | None = None
    ceiling: float | None = None
    capacity: float | None = None


@dataclass(frozen=True)
class AgencyLimit:
    """Bounds on the total of an agency's programs."""

    agency: str
    floor: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True)
class FieldLimit:
    """A field's minimum share of the envelope (0..1) and its absorptive capacity (money)."""

    field: str
    min_share: float | None = None
    capacity: float | None = None


@dataclass(frozen=True)
class AllocationProblem:
    """Everything :func:`allocate` needs; ``spend_all`` makes the envelope an equality."""

    programs: tuple[Program, ...]
    priorities: tuple[FieldPriority, ...]
    envelope: float
    spend_all: bool = False
    agency_limits: tuple[AgencyLimit, ...] = ()
    field_limits: tuple[FieldLimit, ...] = ()


class AllocationInputError(ValueError):
    """The problem is malformed; ``problems`` lists every issue found, not just the first."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid allocation problem:\n- " + "\n- ".join(problems))
        self.problems = tuple(problems)


def with_last_year_band(programs: Iterable[Program], band: float = 0.10) -> tuple[Program, ...]:
    """Programs with floor/ceiling at last year -/+ ``band`` where they have none of their own.

    >>> p = with_last_year_band([Program("a", "X", 200.0, {"ai": 1.0})], band=0.25)[0]
    >>> p.floor, p.ceiling
    (150.0, 250.0)
    """
    return tuple(
        replace(
            p,
            floor=p.floor if p.floor is not None else (1 - band) * p.last_year,
            ceiling=p.ceiling if p.ceiling is not None else (1 + band) * p.last_year,
        )
        for p in programs
    )


# --- outputs --------------------------------------------------------------------------------


class BindingConstraint(NamedTuple):
    """A named constraint with no slack left, and what relaxing it by one unit would be worth
    (a light tuple: there can be thousands)."""

    name: str
    kind: str
    subject: str
    sense: str  # ">=", "<=" or "="
    rhs: float
    slack: float
    shadow_price: float

    @property
    def description(self) -> str:
        """A sentence for people, e.g. ``program a gets at most 110``."""
        return describe(self.kind, self.subject, self.sense, self.rhs)


@dataclass(frozen=True, eq=False)
class BindingConstraints(Sequence[BindingConstraint]):
    """The binding constraints, most valuable to relax (largest ``|shadow_price|``) first.

    A read-only sequence whose rows are built when read: a national allocation has thousands
    of programs at their bounds, most callers show the first few, and building every row up
    front was a quarter of our overhead around the solver (benchmarks/bench_allocation.py).
    """

    named: NamedConstraints
    order: IntArray
    slack: FloatArray
    price: FloatArray

    def __len__(self) -> int:
        return len(self.order)

    @overload
    def __getitem__(self, index: int) -> BindingConstraint: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[BindingConstraint, ...]: ...
    def __getitem__(self, index: int | slice) -> BindingConstraint | tuple[BindingConstraint, ...]:
        if isinstance(index, slice):
            return tuple(self._row(i) for i in self.order[index].tolist())
        return self._row(int(self.order[index]))  # numpy raises IndexError past the end

    def _row(self, i: int) -> BindingConstraint:
        named = self.named
        return BindingConstraint(
            named.names[i],
            named.kinds[i],
            named.subjects[i],
            SENSE[int(named.side[i])],
            float(named.rhs[i]),
            float(self.slack[i]),
            float(self.price[i]),
        )


@dataclass(frozen=True)
class Conflict:
    """Constraints that cannot hold together; ``minimal`` unless the search budget ran out."""

    constraints: tuple[str, ...]
    descriptions: tuple[str, ...]
    explanation: str
    minimal: bool
    solves: int
    seconds: float


@dataclass(frozen=True)
class Allocation:
    """The answer of :func:`allocate` (amounts in currency units, objective in value units).

    ``build_seconds`` is our own time (validation, arrays, handing them to the solver, the
    report); ``solve_seconds`` the solver's run; a conflict search reports its own time.
    """

    status: Status
    solver: str
    message: str
    objective: float
    allocation: dict[str, float] = field(default_factory=dict)
    agency_totals: dict[str, float] = field(default_factory=dict)
    field_totals: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    binding: Sequence[BindingConstraint] = ()
    shadow_prices: dict[str, float] = field(default_factory=dict)
    slacks: dict[str, float] = field(default_factory=dict)
    field_marginal_values: dict[str, float] = field(default_factory=dict)
    conflict: Conflict | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0

    @property
    def envelope_shadow_price(self) -> float:
        """What one more currency unit of envelope buys, in value units."""
        return self.shadow_prices.get("envelope", 0.0)


# --- formulation ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LinearProgram:
    """``max objective @ v`` s.t. ``row_lower <= matrix @ v <= row_upper`` and column bounds."""

    objective: FloatArray
    matrix: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray


@dataclass(frozen=True, eq=False)
class NamedConstraints:
    """The relaxable constraints as parallel arrays; each sits on one side of a row or column."""

    names: list[str]
    kinds: list[str]
    subjects: list[str]
    on_column: BoolArray
    index: IntArray
    side: IntArray
    rhs: FloatArray

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True, eq=False)
class Formulation:
    """A problem's LP (with every named constraint imposed), and the structural bounds without
    them, so a constraint can be dropped by re-imposing the others (see :func:`impose`).

    Columns: programs ``x`` (``n_programs``), field money ``m``, then segments ``y``. Rows:
    field money (one per field), field value (one per field), the envelope, limited agencies.
    """

    lp: LinearProgram
    structural: LinearProgram
    constraints: NamedConstraints
    program_keys: list[str]
    agencies: list[str]
    agency_of_program: IntArray
    fields: list[str]

    @property
    def n_programs(self) -> int:
        return len(self.program_keys)


@dataclass(frozen=True, eq=False)
class _ProgramColumns:
    """The programs read once into arrays (``nan`` where a bound is ``None``)."""

    keys: list[str]
    agencies: list[str]
    last_year: FloatArray
    floor: FloatArray
    ceiling: FloatArray
    capacity: FloatArray
    share_program: IntArray
    share_fields: list[str]
    share_values: FloatArray


def _columns(programs: Sequence[Program]) -> _ProgramColumns:
    # Plain comprehensions: measured faster here than getattr or attrgetter loops.
    shares = [p.shares for p in programs]
    per_program = np.fromiter(map(len, shares), np.int64, count=len(programs))
    fields = list(chain.from_iterable(shares))
    values = chain.from_iterable(map(methodcaller("values"), shares))
    return _ProgramColumns(
        keys=[p.key for p in programs],
        agencies=[p.agency for p in programs],
        last_year=np.array([p.last_year for p in programs], dtype=float),
        floor=np.array([p.floor for p in programs], dtype=float),  # None -> nan
        ceiling=np.array([p.ceiling for p in programs], dtype=float),
        capacity=np.array([p.capacity for p in programs], dtype=float),
        share_program=np.repeat(np.arange(len(programs)), per_program),
        share_fields=fields,
        share_values=np.fromiter(values, np.float64, count=len(fields)),
    )


def formulate(problem: AllocationProblem) -> Formulation:
    """Validate ``problem`` and build its LP with numpy and scipy.sparse.

    Raises :class:`AllocationInputError` listing every malformed input. Python touches each
    program once to read it; everything after is vectorised.

    >>> f = formulate(AllocationProblem((Program("a", "X", 1.0, {"ai": 1.0}),),
    ...                                 (FieldPriority("ai", 1.0),), envelope=1.0))
    >>> f.lp.matrix.shape, f.constraints.names
    ((3, 3), ['envelope'])
    """
    cols = _columns(problem.programs)
    fields = [fp.field for fp in problem.priorities]
    field_pos = {f: i for i, f in enumerate(fields)}
    share_field = np.fromiter(
        map(field_pos.get, cols.share_fields, repeat(-1)), np.int64, count=len(cols.share_fields)
    )
    _validate(problem, cols, share_field)

    agencies = sorted(set(cols.agencies))
    agency_pos = {a: i for i, a in enumerate(agencies)}
    agency_of = np.fromiter((agency_pos[a] for a in cols.agencies), np.int64, count=len(cols.keys))
    limited = [agency_pos[a.agency] for a in problem.agency_limits]
    segments = _segments(problem.priorities)
    structural = _structure(cols, share_field, agency_of, len(agencies), limited, segments)
    named = _named_constraints(problem, cols, field_pos)
    lp = impose(structural, named, np.ones(len(named), bool))
    return Formulation(lp, structural, named, cols.keys, agencies, agency_of, fields)


@dataclass(frozen=True, eq=False)
class _Segments:
    """Per segment (all fields' in a row): its field's index, width and objective coefficient."""

    n_fields: int
    field: IntArray
    width: FloatArray
    value: FloatArray


def _segments(priorities: Sequence[FieldPriority]) -> _Segments:
    counts = [len(fp.segments) for fp in priorities]
    return _Segments(
        n_fields=len(priorities),
        field=np.repeat(np.arange(len(priorities)), counts),
        width=np.array([s.width for fp in priorities for s in fp.segments], float),
        value=np.array([fp.weight * s.slope for fp in priorities for s in fp.segments], float),
    )


def _structure(
    cols: _ProgramColumns,
    share_field: IntArray,
    agency_of: IntArray,
    n_agencies: int,
    limited: list[int],
    segments: _Segments,
) -> LinearProgram:
    """The LP without any named constraint: matrix, objective, structural bounds."""
    n_p, n_f, n_s = len(cols.keys), segments.n_fields, len(segments.field)
    m_cols, y_cols = n_p + np.arange(n_f), n_p + n_f + np.arange(n_s)
    envelope_row = 2 * n_f
    agency_row = np.full(n_agencies, -1)
    agency_row[limited] = envelope_row + 1 + np.arange(len(limited))
    in_limited = np.flatnonzero(agency_row[agency_of] >= 0)
    parts = [
        (share_field, cols.share_program, cols.share_values),  # field money: shares . x
        (np.arange(n_f), m_cols, -np.ones(n_f)),  # ... - m_f = 0
        (n_f + segments.field, y_cols, np.ones(n_s)),  # field value: sum_k y_fk
        (n_f + np.arange(n_f), m_cols, -np.ones(n_f)),  # ... - m_f <= 0
        (np.full(n_p, envelope_row), np.arange(n_p), np.ones(n_p)),  # envelope
        (agency_row[agency_of[in_limited]], in_limited, np.ones(in_limited.size)),
    ]
    rows, columns, values = (np.concatenate(block) for block in zip(*parts, strict=True))
    shape = (envelope_row + 1 + len(limited), n_p + n_f + n_s)
    matrix = sp.csr_matrix((values, (rows, columns)), shape=shape)
    row_lower, row_upper = np.full(shape[0], -np.inf), np.full(shape[0], np.inf)
    row_lower[:n_f] = 0.0  # field money definition (equality) ...
    row_upper[: 2 * n_f] = 0.0  # ... and value only from money present
    objective, col_upper = np.zeros(shape[1]), np.full(shape[1], np.inf)
    objective[n_p + n_f :] = segments.value  # only the segments carry value
    col_upper[n_p + n_f :] = segments.width
    return LinearProgram(objective, matrix, row_lower, row_upper, np.zeros(shape[1]), col_upper)


def _named_constraints(
    problem: AllocationProblem, cols: _ProgramColumns, field_pos: dict[str, int]
) -> NamedConstraints:
    """Every relaxable constraint; absent bounds (``None``) are simply not constraints."""
    n_p, n_f = len(cols.keys), len(field_pos)
    envelope_side = BOTH if problem.spend_all else UPPER
    blocks = [_block("envelope", [""], False, [2 * n_f], envelope_side, [problem.envelope])]
    for bound, side in (("floor", LOWER), ("ceiling", UPPER), ("capacity", UPPER)):
        values: FloatArray = getattr(cols, bound)
        present = np.flatnonzero(~np.isnan(values))
        everyone = present.size == len(cols.keys)  # the usual case: no gather needed
        subjects = cols.keys if everyone else [cols.keys[i] for i in present.tolist()]
        blocks.append(_block(f"program_{bound}", subjects, True, present, side, values[present]))
    for row, limit in enumerate(problem.agency_limits, start=2 * n_f + 1):
        for bound, side in (("floor", LOWER), ("ceiling", UPPER)):
            value = getattr(limit, bound)
            if value is not None:
                blocks.append(
                    _block(f"agency_{bound}", [limit.agency], False, [row], side, [value])
                )
    for fl in problem.field_limits:
        column = [n_p + field_pos[fl.field]]
        if fl.min_share is not None:
            money = fl.min_share * problem.envelope
            blocks.append(_block("field_min_share", [fl.field], True, column, LOWER, [money]))
        if fl.capacity is not None:
            blocks.append(_block("field_capacity", [fl.field], True, column, UPPER, [fl.capacity]))
    return _concat(blocks)


def _block(
    kind: str,
    subjects: list[str],
    on_column: bool,
    index: Sequence[int] | IntArray,
    side: int,
    rhs: Sequence[float] | FloatArray,
) -> NamedConstraints:
    n = len(subjects)
    return NamedConstraints(
        names=["envelope"] if kind == "envelope" else [f"{kind}:{s}" for s in subjects],
        kinds=[kind] * n,
        subjects=subjects,
        on_column=np.full(n, on_column),
        index=np.asarray(index, np.int64),
        side=np.full(n, side, np.int64),
        rhs=np.asarray(rhs, np.float64),
    )


def _concat(blocks: list[NamedConstraints]) -> NamedConstraints:
    return NamedConstraints(
        names=[n for b in blocks for n in b.names],
        kinds=[k for b in blocks for k in b.kinds],
        subjects=[s for b in blocks for s in b.subjects],
        on_column=np.concatenate([b.on_column for b in blocks]),
        index=np.concatenate([b.index for b in blocks]),
        side=np.concatenate([b.side for b in blocks]),
        rhs=np.concatenate([b.rhs for b in blocks]),
    )


def impose(structural: LinearProgram, named: NamedConstraints, active: BoolArray) -> LinearProgram:
    """``structural`` with the ``active`` named constraints tightened onto its bounds.

    >>> fm = formulate(AllocationProblem((Program("a", "X", 1.0, {"ai": 1.0}, floor=0.5),),
    ...                                  (FieldPriority("ai", 1.0),), envelope=1.0))
    >>> impose(fm.structural, fm.constraints, np.array([True, False])).col_lower[0]
    np.float64(0.0)
    """
    bounds = {
        (True, LOWER): structural.col_lower.copy(),
        (True, UPPER): structural.col_upper.copy(),
        (False, LOWER): structural.row_lower.copy(),
        (False, UPPER): structural.row_upper.copy(),
    }
    for (on_column, side), target in bounds.items():
        pick = (
            active & (named.on_column == on_column) & ((named.side == side) | (named.side == BOTH))
        )
        tighten = np.maximum if side == LOWER else np.minimum
        tighten.at(target, named.index[pick], named.rhs[pick])
    return replace(
        structural,
        col_lower=bounds[(True, LOWER)],
        col_upper=bounds[(True, UPPER)],
        row_lower=bounds[(False, LOWER)],
        row_upper=bounds[(False, UPPER)],
    )


# --- validation -----------------------------------------------------------------------------


def _validate(problem: AllocationProblem, cols: _ProgramColumns, share_field: IntArray) -> None:
    """Raise :class:`AllocationInputError` listing every malformed input."""
    problems = _check_problem(problem) + _check_priorities(problem.priorities)
    problems += _check_programs(cols, share_field)
    problems += _check_limits(problem, set(cols.agencies), {fp.field for fp in problem.priorities})
    if problems:
        raise AllocationInputError(problems)


def _bad_amount(value: float | None) -> bool:
    return value is not None and not (math.isfinite(value) and value >= 0)


def _check_problem(problem: AllocationProblem) -> list[str]:
    problems = []
    if _bad_amount(problem.envelope):
        problems.append(f"envelope must be a finite amount >= 0, got {problem.envelope!r}")
    if not problem.programs:
        problems.append("no programs to allocate to")
    if not problem.priorities:
        problems.append("no field priorities")
    return problems


def _check_priorities(priorities: Sequence[FieldPriority]) -> list[str]:
    problems = [
        f"field {f!r}: priority given twice" for f in _duplicates(p.field for p in priorities)
    ]
    for fp in priorities:
        where = f"field {fp.field!r}"
        if not (math.isfinite(fp.weight) and fp.weight >= 0):
            problems.append(f"{where}: weight must be finite and >= 0, got {fp.weight!r}")
        if not fp.segments:
            problems.append(f"{where}: needs at least one segment")
        slopes = [s.slope for s in fp.segments]
        if any(not (math.isfinite(s) and s >= 0) for s in slopes):
            problems.append(f"{where}: slopes must be finite and >= 0, got {slopes}")
        elif any(b > a for a, b in pairwise(slopes)):
            problems.append(f"{where}: slopes must not increase (diminishing returns): {slopes}")
        widths = [s.width for s in fp.segments]
        if any(not w > 0 for w in widths) or any(math.isinf(w) for w in widths[:-1]):
            problems.append(f"{where}: widths must be > 0, only the last may be infinite: {widths}")
    return problems


def _check_programs(cols: _ProgramColumns, share_field: IntArray) -> list[str]:
    """Vectorised checks; the messages are only built for the programs that fail."""
    problems = [f"program {k!r}: key used twice" for k in _duplicates(cols.keys)]

    def report(bad: BoolArray, what: str) -> None:
        problems.extend(f"program {cols.keys[i]!r}: {what}" for i in np.flatnonzero(bad))

    report(~(np.isfinite(cols.last_year) & (cols.last_year >= 0)), "last_year must be >= 0")
    for bound in ("floor", "ceiling", "capacity"):
        values = getattr(cols, bound)
        with np.errstate(invalid="ignore"):
            report(
                ~np.isnan(values) & ~(np.isfinite(values) & (values >= 0)), f"{bound} must be >= 0"
            )
    for i in np.flatnonzero(share_field < 0):
        program = cols.keys[cols.share_program[i]]
        problems.append(
            f"program {program!r}: share for field {cols.share_fields[i]!r}, which has no priority"
        )
    values = cols.share_values
    bad_value = ~((values >= 0) & (values <= 1))
    report(
        np.bincount(cols.share_program[bad_value], minlength=len(cols.keys)) > 0,
        "each share must be in [0, 1]",
    )
    sums = np.bincount(cols.share_program, weights=values, minlength=len(cols.keys))
    report(sums > 1 + 1e-9, "shares sum to more than 1")
    return problems


def _check_limits(problem: AllocationProblem, agencies: set[str], fields: set[str]) -> list[str]:
    problems = [
        f"agency limit {a!r}: given twice"
        for a in _duplicates(a.agency for a in problem.agency_limits)
    ]
    problems += [
        f"field limit {f!r}: given twice"
        for f in _duplicates(f.field for f in problem.field_limits)
    ]
    for a in problem.agency_limits:
        if a.agency not in agencies:
            problems.append(f"agency limit {a.agency!r}: no program of this agency")
        if _bad_amount(a.floor) or _bad_amount(a.ceiling):
            problems.append(
                f"agency limit {a.agency!r}: floor and ceiling must be finite amounts >= 0"
            )
    for fl in problem.field_limits:
        if fl.field not in fields:
            problems.append(f"field limit {fl.field!r}: field has no priority")
        if fl.min_share is not None and not 0 <= fl.min_share <= 1:
            problems.append(f"field limit {fl.field!r}: min_share must be between 0 and 1")
        if _bad_amount(fl.capacity):
            problems.append(f"field limit {fl.field!r}: capacity must be a finite amount >= 0")
    return problems


def _duplicates(items: Iterable[str]) -> list[str]:
    return [item for item, count in Counter(items).items() if count > 1]


# --- solvers --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LPSolution:
    """A solver's answer in our sign convention (duals = d objective / d right-hand side)."""

    status: Status
    message: str
    objective: float
    values: FloatArray
    row_dual: FloatArray
    col_dual: FloatArray
    build_seconds: float  # handing the arrays to the solver
    solve_seconds: float  # the solver's own run


def solve_lp(
    lp: LinearProgram, solver: SolverName = "glop", time_limit: float | None = None
) -> LPSolution:
    """Solve ``lp`` (a maximisation) with GLOP or HiGHS; duals in our sign convention.

    >>> lp = LinearProgram(np.array([1.0]), sp.csr_matrix(np.ones((1, 1))), np.array([-np.inf]),
    ...                    np.array([2.0]), np.zeros(1), np.array([np.inf]))
    >>> s = solve_lp(lp, "highs")
    >>> s.status, float(s.objective), s.row_dual.tolist()
    ('optimal', 2.0, [1.0])
    """
    if solver == "glop":
        return _solve_glop(lp, time_limit)
    if solver == "highs":
        return _solve_highs(lp, time_limit)
    raise ValueError(f"unknown solver {solver!r}: use 'glop' or 'highs'")


def _no_solution(status: Status, message: str, build: float, run: float) -> LPSolution:
    nothing = np.zeros(0)
    return LPSolution(status, message, math.nan, nothing, nothing, nothing, build, run)


def _solve_glop(lp: LinearProgram, time_limit: float | None) -> LPSolution:
    """GLOP through OR-Tools' model builder, fed our sparse arrays in one call."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    start = time.perf_counter()
    # Typed Any: OR-Tools' generated stubs describe numpy arrays in a form mypy rejects.
    model: Any = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        lp.col_lower, lp.col_upper, lp.objective, lp.row_lower, lp.row_upper, lp.matrix
    )
    model.set_maximize(True)
    solver: Any = mbh.ModelSolverHelper("glop")
    if time_limit is not None:
        solver.set_time_limit_in_seconds(time_limit)
    built = time.perf_counter()
    solver.solve(model)
    build, run = built - start, time.perf_counter() - built
    statuses: dict[object, Status] = {
        mbh.SolveStatus.OPTIMAL: "optimal",
        mbh.SolveStatus.INFEASIBLE: "infeasible",
        mbh.SolveStatus.UNBOUNDED: "unbounded",
    }
    status = statuses.get(solver.status(), "error")
    message = solver.status_string() or str(solver.status())
    if status != "optimal":
        return _no_solution(status, message, build, run)
    values, duals, reduced = solver.variable_values(), solver.dual_values(), solver.reduced_costs()
    return LPSolution(status, message, solver.objective_value(), values, duals, reduced, build, run)


def _solve_highs(lp: LinearProgram, time_limit: float | None) -> LPSolution:
    """HiGHS through scipy's linprog (dual simplex). Not highspy: its constructor prints a
    banner on stdout, which would corrupt ``--json`` output; the conversion costs ~1 ms."""
    from scipy.optimize import linprog

    start = time.perf_counter()
    if np.any(lp.col_lower > lp.col_upper):  # linprog raises on such bounds instead of answering
        return _no_solution("infeasible", "a lower bound exceeds its upper bound", 0.0, 0.0)
    form = linprog_form(lp)
    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    built = time.perf_counter()
    res = linprog(
        -lp.objective,  # linprog minimises
        A_ub=form.a_ub,
        b_ub=form.b_ub,
        A_eq=form.a_eq,
        b_eq=form.b_eq,
        bounds=np.column_stack([lp.col_lower, lp.col_upper]),
        method="highs-ds",
        options=options,
    )
    build, run = built - start, time.perf_counter() - built
    statuses: dict[int, Status] = {0: "optimal", 2: "infeasible", 3: "unbounded"}
    status = statuses.get(res.status, "error")
    if status != "optimal":
        return _no_solution(status, res.message, build, run)
    # linprog's marginals are d(minimised objective)/d(rhs), i.e. minus ours.
    row_dual = np.zeros(lp.matrix.shape[0])
    np.add.at(row_dual, form.ub_rows, -res.ineqlin.marginals * form.ub_sign)
    row_dual[form.eq_rows] = -res.eqlin.marginals
    col_dual = -(res.lower.marginals + res.upper.marginals)
    return LPSolution(status, res.message, -res.fun, res.x, row_dual, col_dual, build, run)


@dataclass(frozen=True, eq=False)
class LinprogForm:
    """An LP's rows split for linprog: ``a_ub @ v <= b_ub`` and ``a_eq @ v == b_eq``. A row
    bounded below appears negated in ``a_ub`` (``ub_sign`` -1); ``ub_rows``/``eq_rows`` map
    back to the LP's rows."""

    a_ub: sp.csr_matrix
    b_ub: FloatArray
    ub_rows: IntArray
    ub_sign: FloatArray
    a_eq: sp.csr_matrix
    b_eq: FloatArray
    eq_rows: IntArray


def linprog_form(lp: LinearProgram) -> LinprogForm:
    """Split ranged rows into the ``<=`` and ``==`` blocks linprog takes (vectorised).

    >>> lp = LinearProgram(np.ones(1), sp.csr_matrix(np.ones((1, 1))), np.array([1.0]),
    ...                    np.array([2.0]), np.zeros(1), np.array([np.inf]))
    >>> linprog_form(lp).b_ub.tolist()
    [2.0, -1.0]
    """
    equal = lp.row_lower == lp.row_upper
    upper = np.flatnonzero(~equal & np.isfinite(lp.row_upper))
    lower = np.flatnonzero(~equal & np.isfinite(lp.row_lower))
    eq_rows = np.flatnonzero(equal)
    ub_rows = np.concatenate([upper, lower])
    ub_sign = np.concatenate([np.ones(upper.size), -np.ones(lower.size)])
    a_ub = sp.csr_matrix(sp.diags(ub_sign) @ lp.matrix[ub_rows])
    b_ub = np.concatenate([lp.row_upper[upper], -lp.row_lower[lower]])
    a_eq = lp.matrix[eq_rows]
    return LinprogForm(a_ub, b_ub, ub_rows, ub_sign, a_eq, lp.row_upper[eq_rows], eq_rows)


# --- the optimiser --------------------------------------------------------------------------


def allocate(
    problem: AllocationProblem,
    *,
    solver: SolverName = "highs",
    explain_infeasible: bool = True,
    max_conflict_solves: int = 200,
    time_limit: float | None = None,
) -> Allocation:
    """Allocate ``problem.envelope`` to maximise priority-weighted value (see the module doc).

    ``solver``: ``"highs"`` (HiGHS' dual simplex through scipy, the default: fastest on this
    formulation, see benchmarks/bench_allocation.py) or ``"glop"`` (OR-Tools). When the problem
    is infeasible and ``explain_infeasible`` is set, ``conflict`` names an irreducible set of
    conflicting constraints, found by :func:`find_conflict` (with GLOP, whichever ``solver``
    ran the optimisation) in at most ``max_conflict_solves`` feasibility solves; ``message``
    then holds its explanation. ``time_limit`` (seconds) bounds the optimisation; running out
    gives status ``"error"``. Raises :class:`AllocationInputError` for malformed input.

    >>> problem = AllocationProblem(
    ...     (Program("a", "X", 50.0, {"ai": 1.0}, floor=60.0),
    ...      Program("b", "X", 50.0, {"ai": 1.0}, floor=60.0)),
    ...     (FieldPriority("ai", 1.0),), envelope=100.0)
    >>> result = allocate(problem)
    >>> result.status, result.conflict.constraints
    ('infeasible', ('envelope', 'program_floor:a', 'program_floor:b'))
    """
    start = time.perf_counter()
    formulation = formulate(problem)
    solution = solve_lp(formulation.lp, solver, time_limit)
    conflict = None
    if solution.status == "optimal":
        result = _report(formulation, solution, solver)
    else:
        if solution.status == "infeasible" and explain_infeasible:
            conflict = find_conflict(formulation, max_solves=max_conflict_solves)
        message = conflict.explanation if conflict else solution.message
        result = Allocation(solution.status, solver, message, math.nan, conflict=conflict)
    ours = time.perf_counter() - start - solution.solve_seconds
    ours -= conflict.seconds if conflict else 0.0
    return replace(result, build_seconds=ours, solve_seconds=solution.solve_seconds)


def _report(fm: Formulation, sol: LPSolution, solver: str) -> Allocation:
    """Amounts, totals and the constraint explanation of an optimal solution."""
    n_p, n_f = fm.n_programs, len(fm.fields)
    x = sol.values[:n_p]
    money = sol.values[n_p : n_p + n_f]
    agency_totals = np.bincount(fm.agency_of_program, weights=x, minlength=len(fm.agencies))
    named = fm.constraints
    slack, price, binding = _constraint_state(fm, sol)
    return Allocation(
        status="optimal",
        solver=solver,
        message=sol.message,
        objective=float(sol.objective),
        allocation=dict(zip(fm.program_keys, x.tolist(), strict=True)),
        agency_totals=dict(zip(fm.agencies, agency_totals.tolist(), strict=True)),
        field_totals=dict(zip(fm.fields, money.tolist(), strict=True)),
        total=float(x.sum()),
        binding=_binding(named, slack, price, binding),
        shadow_prices=dict(zip(named.names, price.tolist(), strict=True)),
        slacks=dict(zip(named.names, slack.tolist(), strict=True)),
        # The dual of "value <= money present" is what one more unit in the field is worth.
        field_marginal_values=dict(
            zip(fm.fields, sol.row_dual[n_f : 2 * n_f].tolist(), strict=True)
        ),
    )


def _constraint_state(fm: Formulation, sol: LPSolution) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Slack, shadow price and binding flag of every named constraint, vectorised."""
    named = fm.constraints
    activity = _pick(named, sol.values, fm.lp.matrix @ sol.values)
    dual = _pick(named, sol.col_dual, sol.row_dual)
    lower, upper = named.side == LOWER, named.side == UPPER
    raw = np.select(
        [lower, upper], [activity - named.rhs, named.rhs - activity], np.abs(activity - named.rhs)
    )
    slack = np.maximum(raw, 0.0)  # a hair below zero is the solver's feasibility tolerance
    binding = slack <= BINDING_TOLERANCE * np.maximum(1.0, np.abs(named.rhs))
    # A column at both bounds (floor == ceiling) has one dual: its sign says which side pushes.
    signed = np.select([lower, upper], [np.minimum(dual, 0.0), np.maximum(dual, 0.0)], dual)
    price = np.where(binding, signed, 0.0)
    price[np.abs(price) < 1e-12] = 0.0  # solver round-off, not a price
    return slack, price, binding


def _pick(named: NamedConstraints, by_column: FloatArray, by_row: FloatArray) -> FloatArray:
    """For each named constraint, the entry of its column or of its row."""
    out = np.empty(len(named))
    cols = named.on_column
    out[cols] = by_column[named.index[cols]]
    out[~cols] = by_row[named.index[~cols]]
    return out


def _binding(
    named: NamedConstraints, slack: FloatArray, price: FloatArray, binding: BoolArray
) -> BindingConstraints:
    """Binding constraints, the most valuable to relax (largest |price|) first."""
    order = np.flatnonzero(binding)
    order = order[np.lexsort((order, -np.abs(price[order])))]
    return BindingConstraints(named, order, slack, price)


def _money(value: float) -> str:
    """An amount for people: two decimals, none when they are zero (110.00000000000001 -> 110)."""
    text = f"{value:,.2f}"
    return text.removesuffix(".00")


_TEMPLATES = {
    "program_floor": "program {s} gets at least {v}",
    "program_ceiling": "program {s} gets at most {v}",
    "program_capacity": "program {s} can absorb at most {v}",
    "agency_floor": "agency {s} gets at least {v} in total",
    "agency_ceiling": "agency {s} gets at most {v} in total",
    "field_min_share": "field {s} gets at least {v} (its minimum share of the envelope)",
    "field_capacity": "field {s} can absorb at most {v}",
}


def describe(kind: str, subject: str, sense: str, rhs: float) -> str:
    """A sentence for a named constraint.

    >>> describe("program_floor", "a", ">=", 90.0)
    'program a gets at least 90'
    >>> describe("envelope", "", "=", 1000.5)
    'all programs together get exactly the envelope of 1,000.50'
    """
    if kind == "envelope":
        verb = "exactly" if sense == "=" else "at most"
        return f"all programs together get {verb} the envelope of {_money(rhs)}"
    return _TEMPLATES[kind].format(s=subject, v=_money(rhs))


# --- infeasibility --------------------------------------------------------------------------


def find_conflict(
    formulation: Formulation, *, solver: SolverName = "glop", max_solves: int = 200
) -> Conflict:
    """An irreducible set of named constraints that cannot hold together (a deletion filter
    over groups, then within them; see the module docstring). Call it on an infeasible
    formulation; on a feasible one it returns an empty set. GLOP is the default: its
    feasibility re-solves measured 4-6x faster than HiGHS' (benchmarks/bench_allocation.py).

    >>> fm = formulate(AllocationProblem(
    ...     (Program("a", "X", 1.0, {"ai": 1.0}, floor=3.0, ceiling=2.0),),
    ...     (FieldPriority("ai", 1.0),), envelope=10.0))
    >>> find_conflict(fm).constraints
    ('program_floor:a', 'program_ceiling:a')
    """
    start = time.perf_counter()
    named = formulation.constraints
    feasibility = replace(formulation.structural, objective=np.zeros_like(formulation.lp.objective))
    active = np.ones(len(named), bool)
    budget = _Budget(max_solves)

    def solve() -> Status:
        return solve_lp(impose(feasibility, named, active), solver).status

    def infeasible() -> bool:
        return budget.infeasible(solve)

    if solve() != "infeasible":  # outside the budget: the search has not started
        return Conflict((), (), "An allocation exists: nothing conflicts.", True, 1, 0.0)
    budget.used = 1
    members = _groups(formulation)
    # Pass 1, units are groups. Dropping all of them is feasible (x = 0), so the whole set is
    # needed as a block: the search starts from its two halves.
    kept_groups = _deletion_filter(
        members, *_split(np.arange(len(members))), active, infeasible, budget
    )
    # Pass 2, single constraints inside the kept groups. Dropping a whole kept group makes the
    # problem feasible, so each group is needed as a block and starts split in two.
    blocks: list[IntArray] = []
    for g in kept_groups:
        blocks += _split(members[g])[0]  # a one-member group is known to be needed: no test
    singles = [np.array([i]) for i in range(len(named))]
    _deletion_filter(singles, blocks, [], active, infeasible, budget)
    return _conflict(formulation, np.flatnonzero(active), budget, time.perf_counter() - start)


class _Budget:
    """Counts feasibility solves. Once they are spent every answer is "not infeasible", so
    nothing more is dropped: the current set stays infeasible but may not be minimal."""

    def __init__(self, max_solves: int) -> None:
        self.max_solves, self.used, self.exhausted, self.unsure = max_solves, 0, False, False

    def infeasible(self, solve: Callable[[], Status]) -> bool:
        """Run ``solve`` if the budget allows; whether it found the problem infeasible."""
        if self.used >= self.max_solves:
            self.exhausted = True
            return False
        self.used += 1
        status = solve()
        self.unsure |= status not in ("optimal", "infeasible", "unbounded")  # a solver error
        return status == "infeasible"


def _groups(fm: Formulation) -> list[IntArray]:
    """The search groups, each as its members' constraint indices: one group per agency for
    each kind of program bound, every other constraint a group of its own."""
    named = fm.constraints
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (kind, subject, index) in enumerate(
        zip(named.kinds, named.subjects, named.index.tolist(), strict=True)
    ):
        owner = fm.agencies[fm.agency_of_program[index]] if kind.startswith("program_") else subject
        groups.setdefault((kind, owner), []).append(i)
    return [np.array(members, np.int64) for members in groups.values()]


def _split(units: IntArray) -> tuple[list[IntArray], list[int]]:
    """A block known to be needed as a whole: its two halves to test, or if it is a single
    unit, that unit as known to be needed."""
    if units.size == 1:
        return [], [int(units[0])]
    return [units[: units.size // 2], units[units.size // 2 :]], []


def _deletion_filter(
    unit_members: Sequence[IntArray],
    blocks: list[IntArray],
    known: list[int],
    active: BoolArray,
    infeasible: Callable[[], bool],
    budget: _Budget,
) -> list[int]:
    """Drop blocks of units while the problem stays infeasible; split blocks that cannot go.

    ``active`` (per constraint) is updated in place and stays infeasible throughout. Returns
    the units kept: ``known`` ones, those needed when dropped alone, and, if the budget ran
    out (``budget.exhausted``), every untested one.
    """
    kept = list(known)
    stack = list(reversed(blocks))
    while stack:
        block = stack.pop()
        members = np.concatenate([unit_members[u] for u in block])
        active[members] = False
        if infeasible():
            continue  # still infeasible without the block: it stays dropped
        active[members] = True
        if budget.exhausted:  # not an answer: keep this block and everything still queued
            kept += [int(u) for b in [block, *stack] for u in b]
            break
        if block.size == 1:
            kept.append(int(block[0]))
        else:
            stack += list(reversed(_split(block)[0]))
    return sorted(kept)


_PLURAL = {
    "program_floor": "floors",
    "program_ceiling": "ceilings",
    "program_capacity": "capacities",
}
_LISTED = 5  # beyond this many of one agency's program bounds, the explanation summarises them


def _conflict(fm: Formulation, kept: IntArray, budget: _Budget, seconds: float) -> Conflict:
    named = fm.constraints
    names = tuple(named.names[i] for i in kept)
    descriptions = tuple(
        describe(named.kinds[i], named.subjects[i], SENSE[int(named.side[i])], float(named.rhs[i]))
        for i in kept
    )
    lines = [f"No allocation satisfies these {len(names)} constraints together:"]
    lines += _conflict_lines(fm, kept, descriptions)
    kinds = [named.kinds[i] for i in kept]
    if set(kinds) == {"envelope", "program_floor"}:
        floors = math.fsum(
            named.rhs[i] for i, k in zip(kept, kinds, strict=True) if k != "envelope"
        )
        envelope = float(named.rhs[kept[kinds.index("envelope")]])
        lines.append(
            f"The floors add up to {_money(floors)}, above the envelope of {_money(envelope)}."
        )
    minimal = not (budget.exhausted or budget.unsure)
    if minimal:
        lines.append("Relaxing or removing any one of them makes an allocation possible.")
    else:
        lines.append(
            f"(The search stopped after {budget.used} solves: these constraints conflict, "
            "but a smaller set may too.)"
        )
    return Conflict(names, descriptions, "\n".join(lines), minimal, budget.used, seconds)


def _conflict_lines(fm: Formulation, kept: IntArray, descriptions: tuple[str, ...]) -> list[str]:
    """One line per constraint, except that many program bounds of one kind and agency are
    summarised in one line (a conflict can involve every ceiling of an agency)."""
    named = fm.constraints
    bunches: dict[tuple[str, str], list[int]] = {}
    for position, i in enumerate(kept.tolist()):
        kind = named.kinds[i]
        owner = fm.agencies[fm.agency_of_program[named.index[i]]] if kind in _PLURAL else ""
        bunches.setdefault((kind, owner or named.names[i]), []).append(position)
    lines = []
    for (kind, owner), positions in bunches.items():
        if len(positions) <= _LISTED:
            lines += [f"- {named.names[kept[p]]}: {descriptions[p]}" for p in positions]
            continue
        total = math.fsum(named.rhs[kept[p]] for p in positions)
        shown = ", ".join(named.subjects[kept[p]] for p in positions[:3])
        lines.append(
            f"- the {_PLURAL[kind]} of {len(positions)} programs of agency {owner} "
            f"({shown}, ...), together {_money(total)}"
        )
    return lines
