"""Delphi rounds: the panel's statistics fed back, Kendall's W, and when to stop.

A Delphi survey asks a panel of experts to rate items (e.g. on a 1-9 scale) over several
rounds; after each round every expert sees the panel's median and interquartile range and may
revise. The survey stops when the panel has converged or after a maximum number of rounds.

- :func:`round_statistics`: per item n, median, quartiles (linear interpolation between order
  statistics, numpy's default and Hyndman-Fan type 7), IQR, mean, standard deviation, range.
- :func:`kendalls_w`: Kendall's coefficient of concordance over experts x items, each expert's
  ratings turned into ranks (ties get their average rank) with the tie correction
  ``W = 12 S / (m^2 (n^3 - n) - m sum T)``, ``T = sum (t^3 - t)`` over each expert's groups of
  ``t`` tied items; ``chi^2 = m (n - 1) W`` with ``n - 1`` degrees of freedom.
- :func:`converged`: an item has converged when its IQR is at most ``max_iqr`` (consensus) and
  its median moved at most ``max_median_shift`` since the previous round (stability); the panel
  when every item has, and W is at least ``min_w`` if set. The survey stops when the panel has
  converged or ``max_rounds`` rounds have run.

>>> stats = round_statistics({"ai": [7, 8, 8, 9], "bio": [3, 5, 6, 9]})
>>> stats["ai"].median, stats["ai"].iqr
(8.0, 0.5)
>>> round(kendalls_w([[1, 2, 3], [1, 3, 2], [1, 2, 3]]).w, 4)
0.7778
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.stats import chi2, rankdata

Ratings = Sequence[float] | Mapping[str, float]


@dataclass(frozen=True)
class ItemStatistics:
    """The panel's view of one item in one round."""

    item: str
    n: int
    median: float
    q1: float
    q3: float
    iqr: float
    mean: float
    std: float  # sample standard deviation (n - 1); 0 for a single rating
    minimum: float
    maximum: float


@dataclass(frozen=True)
class KendallW:
    """Kendall's W with its chi-square test of no agreement."""

    w: float
    chi_square: float
    df: int
    p_value: float
    raters: int
    items: int


@dataclass(frozen=True)
class ConvergenceRule:
    """When a Delphi survey stops (see module doc)."""

    max_iqr: float = 1.0
    max_median_shift: float = 0.5
    min_w: float | None = None
    max_rounds: int = 4


@dataclass(frozen=True)
class ItemConvergence:
    item: str
    converged: bool
    median: float
    iqr: float
    median_shift: float | None  # None in the first round
    reasons: tuple[str, ...]  # why not converged (empty when converged)


@dataclass(frozen=True)
class Convergence:
    """Has the panel converged, should the survey stop, and why (per item and overall)."""

    converged: bool
    stop: bool
    items: dict[str, ItemConvergence]
    reasons: dict[str, tuple[str, ...]]  # item -> reasons it has not converged
    w: KendallW | None = None
    panel_reasons: tuple[str, ...] = field(default_factory=tuple)


def _values(ratings: Ratings) -> npt.NDArray[np.float64]:
    raw = list(ratings.values()) if isinstance(ratings, Mapping) else list(ratings)
    arr = np.asarray(raw, dtype=float)
    if arr.ndim != 1:
        raise ValueError("ratings of an item must be a flat list of numbers")
    if np.isnan(arr).any():
        raise ValueError("ratings must not contain NaN")
    return arr


def item_statistics(item: str, ratings: Ratings) -> ItemStatistics:
    """Statistics of one item's ratings.

    >>> s = item_statistics("x", [1, 2, 3, 4])
    >>> (s.median, s.q1, s.q3, s.iqr)
    (2.5, 1.75, 3.25, 1.5)
    """
    arr = _values(ratings)
    if len(arr) == 0:
        raise ValueError(f"{item}: no ratings")
    q1, median, q3 = (float(v) for v in np.percentile(arr, [25, 50, 75]))
    return ItemStatistics(
        item=item,
        n=len(arr),
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        mean=float(arr.mean()),
        std=float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        minimum=float(arr.min()),
        maximum=float(arr.max()),
    )


def round_statistics(ratings: Mapping[str, Ratings]) -> dict[str, ItemStatistics]:
    """Per item statistics of one round; ``ratings`` maps item -> ratings (a list, or a
    mapping expert -> rating).

    >>> round_statistics({"q": [1, 2, 3, 4, 5]})["q"].iqr
    2.0
    """
    return {item: item_statistics(item, values) for item, values in ratings.items()}


def kendalls_w(matrix: Sequence[Sequence[float]] | npt.ArrayLike) -> KendallW:
    """Kendall's W of a raters x items matrix of ratings or ranks (ties averaged and corrected).

    Raises ``ValueError`` with fewer than 2 raters or items, or missing values.

    >>> kendalls_w([[1, 2, 3], [1, 2, 3]]).w
    1.0
    """
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2:
        raise ValueError("Kendall's W needs a raters x items matrix")
    m, n = x.shape
    if m < 2 or n < 2:
        raise ValueError("Kendall's W needs at least 2 raters and 2 items")
    if np.isnan(x).any():
        raise ValueError("Kendall's W needs every rater to rate every item")
    ranks = np.vstack([rankdata(row) for row in x])
    totals = ranks.sum(0)
    s = float(((totals - totals.mean()) ** 2).sum())
    ties = 0.0
    for row in x:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts**3 - counts).sum())
    denom = m * m * (n**3 - n) - m * ties
    w = 12 * s / denom if denom > 0 else 1.0  # every rater tied every item: nothing to rank
    w = min(max(w, 0.0), 1.0)
    chi_square = m * (n - 1) * w
    return KendallW(
        w=w,
        chi_square=chi_square,
        df=n - 1,
        p_value=float(chi2.sf(chi_square, n - 1)),
        raters=m,
        items=n,
    )


def _aligned_matrix(ratings: Mapping[str, Ratings]) -> tuple[npt.NDArray[np.float64] | None, str]:
    """Raters x items for W: by expert key when ratings are mappings (experts who rated every
    item), else by position when every item has the same number of ratings."""
    items = list(ratings)
    if not items:
        return None, "no items"
    maps = [r for r in ratings.values() if isinstance(r, Mapping)]
    if len(maps) == len(items):
        experts = set(maps[0]).intersection(*maps[1:])
        if len(experts) < 2:
            return None, "fewer than 2 experts rated every item"
        return np.array([[float(mp[e]) for mp in maps] for e in sorted(experts)]), ""
    lengths = {len(ratings[i]) for i in items}
    if len(lengths) != 1:
        return None, "items have different numbers of ratings, so W cannot pair them by expert"
    return np.array([_values(ratings[i]) for i in items]).T, ""


def converged(
    previous_round: Mapping[str, Ratings] | None,
    current_round: Mapping[str, Ratings],
    rule: ConvergenceRule | None = None,
    *,
    round_number: int | None = None,
) -> Convergence:
    """Apply ``rule`` to the current round (and the previous one, for stability).

    ``round_number`` (1 for the first round) lets the rule stop the survey at ``max_rounds``.

    >>> r1 = {"a": [5, 6, 7, 8], "b": [2, 3, 3, 4]}
    >>> r2 = {"a": [6, 6, 7, 7], "b": [3, 3, 3, 4]}
    >>> result = converged(r1, r2, ConvergenceRule(max_iqr=1.0, max_median_shift=0.5))
    >>> result.converged, result.reasons
    (True, {})
    """
    rule = rule or ConvergenceRule()
    stats = round_statistics(current_round)
    before = round_statistics(previous_round) if previous_round else {}
    items: dict[str, ItemConvergence] = {}
    reasons: dict[str, tuple[str, ...]] = {}
    for item, st in stats.items():
        why: list[str] = []
        if st.iqr > rule.max_iqr + 1e-12:
            why.append(f"IQR {st.iqr:g} above {rule.max_iqr:g}")
        shift: float | None = None
        if item in before:
            shift = st.median - before[item].median
            if abs(shift) > rule.max_median_shift + 1e-12:
                why.append(f"median moved {shift:+g} (more than {rule.max_median_shift:g})")
        else:
            why.append("no previous round to show the median is stable")
        items[item] = ItemConvergence(item, not why, st.median, st.iqr, shift, tuple(why))
        if why:
            reasons[item] = tuple(why)
    panel: list[str] = []
    w: KendallW | None = None
    matrix, problem = _aligned_matrix(current_round)
    if matrix is not None and matrix.shape[0] >= 2 and matrix.shape[1] >= 2:
        w = kendalls_w(matrix)
    elif rule.min_w is not None:
        panel.append(f"Kendall's W cannot be computed: {problem or 'too few items'}")
    if rule.min_w is not None and w is not None and w.w < rule.min_w:
        panel.append(f"Kendall's W {w.w:.3f} below {rule.min_w:g}")
    if reasons:
        panel.append(f"{len(reasons)} of {len(stats)} items not converged")
    is_converged = not panel
    stop = is_converged or (round_number is not None and round_number >= rule.max_rounds)
    if stop and not is_converged:
        panel.append(f"stopped after the maximum of {rule.max_rounds} rounds")
    return Convergence(
        converged=is_converged,
        stop=stop,
        items=items,
        reasons=reasons,
        w=w,
        panel_reasons=tuple(panel),
    )
