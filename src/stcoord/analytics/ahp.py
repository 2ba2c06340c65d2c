"""Priorities for strategic fields: direct weights, or AHP pairwise comparisons (Saaty).

AHP: each judgement says how many times more important item ``a`` is than item ``b`` on
Saaty's 1-9 scale (1 equal, 3 moderate, 5 strong, 7 very strong, 9 extreme, 2/4/6/8 between;
1/3 means ``b`` is moderately more important). The reciprocal matrix ``A`` (``A[b, a] =
1 / A[a, b]``) gives the priorities as its principal (Perron) eigenvector, normalised to sum
to 1, and its consistency:

- ``lambda_max``, the principal eigenvalue (``>= n``; ``== n`` exactly when consistent);
- consistency index ``CI = (lambda_max - n) / (n - 1)``;
- random index ``RI``, the mean CI of random reciprocal matrices of the same size (Saaty's
  table, :data:`RANDOM_INDEX`);
- consistency ratio ``CR = CI / RI`` (0 for ``n <= 2``, where every reciprocal matrix is
  consistent); judgements are acceptably consistent when ``CR <= 0.1``.

Checked in the tests against Saaty's published examples (the house-buying example of Saaty
1990, the light-intensity example of Saaty 1977).

>>> result = ahp_from_judgements(
...     ["ai", "quantum", "bio"],
...     [("ai", "quantum", 3), ("ai", "bio", 6), ("quantum", "bio", 2)],
... )
>>> {k: round(v, 3) for k, v in result.weights.items()}
{'ai': 0.667, 'quantum': 0.222, 'bio': 0.111}
>>> result.consistency.consistent, round(result.consistency.ratio, 6)
(True, 0.0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

# Saaty's random consistency index by matrix size (T. L. Saaty, The Analytic Hierarchy Process,
# McGraw-Hill 1980; the dip at n = 12 is in the original table). Later tables differ slightly
# for n >= 11 (1.52, 1.54, 1.56, 1.58, 1.59); we keep the 1980 one.
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
CONSISTENCY_THRESHOLD = 0.1
SCALE_MIN, SCALE_MAX = 1 / 9, 9.0
_SCALE_TOLERANCE = 1e-9  # 1/9 written as 0.1111111111 is still on the scale
_RECIPROCAL_TOLERANCE = 0.02  # a raw matrix may hold 1/3 rounded to 0.33 (0.33 * 3 = 0.99)

JudgementValue = float | int | Fraction | str


@dataclass(frozen=True)
class Judgement:
    """``a`` is ``value`` times as important as ``b`` (``value`` may be written ``"1/3"``)."""

    a: str
    b: str
    value: JudgementValue


@dataclass(frozen=True)
class Consistency:
    """How consistent a pairwise comparison matrix is (Saaty)."""

    lambda_max: float
    index: float  # CI
    random_index: float  # RI
    ratio: float  # CR
    consistent: bool  # CR <= 0.1
    warning: str | None  # set when CR > 0.1


@dataclass(frozen=True)
class Priorities:
    """Field weights summing to 1, how they were obtained, and for AHP their consistency."""

    weights: dict[str, float]
    method: Literal["direct", "ahp"]
    consistency: Consistency | None = None
    matrix: tuple[tuple[float, ...], ...] | None = None


class PriorityInputError(ValueError):
    """Invalid weights or judgements; ``problems`` lists every issue found, not just the first."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid priorities:\n- " + "\n- ".join(problems))
        self.problems = tuple(problems)


def direct_priorities(weights: Mapping[str, float]) -> Priorities:
    """Normalise directly given weights to sum to 1 (non-negative, finite, not all zero).

    >>> direct_priorities({"ai": 3, "quantum": 1}).weights
    {'ai': 0.75, 'quantum': 0.25}
    """
    problems = [
        f"weight of {item!r} must be a finite number >= 0, got {value!r}"
        for item, value in weights.items()
        if not _is_amount(value)
    ]
    if not weights:
        problems.append("no weights given")
    elif not problems and sum(weights.values()) <= 0:
        problems.append("weights are all zero")
    if problems:
        raise PriorityInputError(problems)
    total = math.fsum(weights.values())
    return Priorities({item: float(value) / total for item, value in weights.items()}, "direct")


def _is_amount(value: object) -> bool:
    """A finite real number >= 0 (numpy numbers too; not a bool, a string or NaN)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    number = float(value)
    return math.isfinite(number) and number >= 0


def pairwise_matrix(
    items: Sequence[str], judgements: Iterable[Judgement | tuple[str, str, JudgementValue]]
) -> npt.NDArray[np.float64]:
    """The reciprocal comparison matrix (rows and columns in ``items`` order).

    Every pair needs one judgement, in either direction; a repeated pair must agree (``(a, b,
    3)`` and ``(b, a, 1/3)`` agree). Raises :class:`PriorityInputError` listing each unknown
    item, value off the 1/9..9 scale, contradiction and missing pair.

    >>> pairwise_matrix(["a", "b"], [("b", "a", "1/4")]).tolist()
    [[1.0, 4.0], [0.25, 1.0]]
    """
    problems = [f"item {item!r} is listed twice" for item in _repeated(items)]
    position: dict[str, int] = {}
    for i, item in enumerate(items):
        position.setdefault(item, i)  # a repeated item is reported above; use its first row
    n = len(items)
    matrix = np.eye(n)
    given: dict[tuple[int, int], tuple[float, int]] = {}  # (i < j) -> (A[i, j], judgement no.)
    for number, raw in enumerate(judgements, start=1):
        judgement = raw if isinstance(raw, Judgement) else Judgement(*raw)
        where = f"judgement {number} ({judgement.a!r}, {judgement.b!r}, {judgement.value!r})"
        checked = _check_judgement(judgement, position, where)
        if isinstance(checked, str):
            problems.append(checked)
            continue
        i, j, value = checked
        if i == j:
            continue
        key, upper = ((i, j), value) if i < j else ((j, i), 1 / value)
        if key in given:
            previous, first = given[key]
            if not math.isclose(previous, upper, rel_tol=1e-9):
                pair = (items[key[0]], items[key[1]])
                problems.append(
                    f"{where} contradicts judgement {first} on {pair}: "
                    f"{_show(upper)} against {_show(previous)}"
                )
            continue
        given[key] = (upper, number)
        matrix[key] = upper
        matrix[key[::-1]] = 1 / upper
    problems += [
        f"missing judgement for ({items[i]!r}, {items[j]!r})"
        for i in range(n)
        for j in range(i + 1, n)
        if (i, j) not in given
    ]
    if problems:
        raise PriorityInputError(problems)
    return matrix


def ahp_priorities(matrix: npt.ArrayLike, items: Sequence[str] | None = None) -> Priorities:
    """Principal-eigenvector weights and Saaty's consistency of a reciprocal matrix.

    ``items`` name the rows (default ``"0"``, ``"1"``, ...). Sizes 1 to 15 (Saaty's random
    index table); for more items, structure them into a hierarchy of smaller comparisons.

    >>> p = ahp_priorities([[1, 3], [1 / 3, 1]], ["ai", "bio"])
    >>> p.weights, p.consistency.ratio
    ({'ai': 0.75, 'bio': 0.25}, 0.0)
    """
    a = np.asarray(matrix, dtype=float)
    names = list(items) if items is not None else [str(i) for i in range(len(a))]
    _check_matrix(a, names)
    weights, lambda_max = _principal_eigenvector(a)
    consistency = _consistency(lambda_max, len(a))
    return Priorities(
        dict(zip(names, weights.tolist(), strict=True)),
        "ahp",
        consistency,
        tuple(tuple(row) for row in a.tolist()),
    )


def ahp_from_judgements(
    items: Sequence[str], judgements: Iterable[Judgement | tuple[str, str, JudgementValue]]
) -> Priorities:
    """:func:`pairwise_matrix` then :func:`ahp_priorities`.

    >>> p = ahp_from_judgements(["a", "b", "c"], [("a", "b", 9), ("b", "c", 9), ("a", "c", 1)])
    >>> p.consistency.consistent, p.consistency.warning is not None
    (False, True)
    """
    return ahp_priorities(pairwise_matrix(items, judgements), items)


def _check_judgement(
    judgement: Judgement, position: Mapping[str, int], where: str
) -> tuple[int, int, float] | str:
    """The judgement as (row, column, value), or the problem with it."""
    unknown = [item for item in (judgement.a, judgement.b) if item not in position]
    if unknown:
        return f"{where}: unknown item(s) {', '.join(map(repr, unknown))}"
    value = _number(judgement.value)
    if value is None or not SCALE_MIN - _SCALE_TOLERANCE <= value <= SCALE_MAX + _SCALE_TOLERANCE:
        return f"{where}: value must be on Saaty's scale, between 1/9 and 9"
    if judgement.a == judgement.b and not math.isclose(value, 1.0):
        return f"{where}: an item compared with itself must be 1"
    return position[judgement.a], position[judgement.b], value


def _number(value: JudgementValue) -> float | None:
    """A judgement value as a float (``"1/3"`` and ``Fraction(1, 3)`` too), or None."""
    try:
        number = float(Fraction(value)) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _check_matrix(a: npt.NDArray[np.float64], names: list[str]) -> None:
    n = len(a)
    problems: list[str] = []
    if a.ndim != 2 or a.shape[0] != a.shape[1] or n == 0:
        raise PriorityInputError([f"the matrix must be square and non-empty, got shape {a.shape}"])
    if n > max(RANDOM_INDEX):
        problems.append(
            f"{n} items: Saaty's random index stops at {max(RANDOM_INDEX)}; "
            "compare fewer items at a time (a hierarchy of groups)"
        )
    if len(names) != n:
        problems.append(f"{len(names)} item names for a {n} x {n} matrix")
    problems += [f"item {item!r} is listed twice" for item in _repeated(names)]
    if not np.all(np.isfinite(a) & (a > 0)):
        problems.append("every entry must be a finite number > 0")
    else:
        off_scale = (a < SCALE_MIN - _SCALE_TOLERANCE) | (a > SCALE_MAX + _SCALE_TOLERANCE)
        problems += [
            f"entry ({i}, {j}) = {a[i, j]:g} is off the 1/9..9 scale"
            for i, j in np.argwhere(off_scale)
        ]
        problems += [
            f"diagonal entry ({i}, {i}) must be 1"
            for i in np.flatnonzero(np.abs(np.diag(a) - 1) > 1e-9)
        ]
        not_reciprocal = np.abs(a * a.T - 1) > _RECIPROCAL_TOLERANCE
        problems += [
            f"entries ({i}, {j}) = {a[i, j]:g} and ({j}, {i}) = {a[j, i]:g} are not reciprocal"
            for i, j in np.argwhere(np.triu(not_reciprocal, 1))
        ]
    if problems:
        raise PriorityInputError(problems)


def _principal_eigenvector(a: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], float]:
    """Perron vector (positive, sum 1) and eigenvalue of a positive matrix."""
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    # The Perron vector of a positive matrix has one sign; eig may return it negated.
    vector = np.abs(vectors[:, k].real)
    return vector / vector.sum(), float(values[k].real)


def _consistency(lambda_max: float, n: int) -> Consistency:
    if n <= 2:  # every 1x1 and 2x2 reciprocal matrix is consistent
        return Consistency(float(n), 0.0, 0.0, 0.0, True, None)
    index = max(0.0, (lambda_max - n) / (n - 1))  # round-off can dip a hair below n
    random_index = RANDOM_INDEX[n]
    ratio = index / random_index
    consistent = ratio <= CONSISTENCY_THRESHOLD
    warning = None
    if not consistent:
        warning = (
            f"consistency ratio {ratio:.3f} is above {CONSISTENCY_THRESHOLD}: the judgements "
            "contradict each other too much to trust the weights; revisit the comparisons "
            "that disagree most with the others"
        )
    return Consistency(lambda_max, index, random_index, ratio, consistent, warning)


def _repeated(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated


def _show(value: float) -> str:
    """A scale value as people write it: 3, or 1/3 for its reciprocal."""
    if value < 1 and math.isclose(1 / value, round(1 / value)):
        return f"1/{round(1 / value)}"
    return f"{value:g}"
