"""Delphi statistics, Kendall's W and the convergence rule, against values worked by hand."""

from __future__ import annotations

import math

import pytest

from stcoord.analytics.delphi import (
    ConvergenceRule,
    converged,
    item_statistics,
    kendalls_w,
    round_statistics,
)


def test_item_statistics_by_hand() -> None:
    s = item_statistics("x", [9, 4, 2, 7, 4, 5])
    # sorted 2 4 4 5 7 9: median (4+5)/2; type-7 quartiles at positions 1.25 and 3.75
    assert (s.n, s.median, s.q1, s.q3, s.iqr) == (6, 4.5, 4.0, 6.5, 2.5)
    assert s.mean == pytest.approx(31 / 6)
    squares = sum((v - 31 / 6) ** 2 for v in [2, 4, 4, 5, 7, 9])
    assert s.std == pytest.approx(math.sqrt(squares / 5))
    assert (s.minimum, s.maximum) == (2.0, 9.0)
    single = item_statistics("y", {"expert-1": 3})
    assert (single.median, single.iqr, single.std) == (3.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="no ratings"):
        item_statistics("z", [])


def test_round_statistics_per_item() -> None:
    stats = round_statistics({"a": [1, 2, 3, 4, 5], "b": {"e1": 7, "e2": 9}})
    assert stats["a"].median == 3 and stats["a"].iqr == 2
    assert stats["b"].median == 8 and stats["b"].q1 == 7.5


def test_kendalls_w_with_ties_by_hand() -> None:
    # raters x items; rater 2 ties items 1 and 2 (ranks 1.5, 1.5)
    ratings = [[1, 2, 3, 4], [1, 1, 3, 4], [2, 1, 4, 3]]
    # rank sums 4.5 4.5 10 11, mean 7.5, S = 9 + 9 + 6.25 + 12.25 = 36.5
    # W = 12 S / (m^2 (n^3 - n) - m sum T) = 438 / (540 - 3 * 6)
    result = kendalls_w(ratings)
    assert result.w == pytest.approx(438 / 522)
    assert result.chi_square == pytest.approx(3 * 3 * 438 / 522)
    assert result.df == 3 and result.raters == 3 and result.items == 4
    x = result.chi_square  # chi-square survival function with 3 degrees of freedom
    p = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    assert result.p_value == pytest.approx(p)


def test_kendalls_w_extremes_and_errors() -> None:
    assert kendalls_w([[1, 2, 3], [1, 2, 3], [1, 2, 3]]).w == pytest.approx(1.0)
    # two raters in exact opposition: rank sums all equal -> no concordance
    assert kendalls_w([[1, 2, 3], [3, 2, 1]]).w == pytest.approx(0.0)
    # ratings (not ranks) work the same: higher rating, higher rank
    assert kendalls_w([[10, 20, 30], [1, 5, 9]]).w == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2"):
        kendalls_w([[1, 2, 3]])
    with pytest.raises(ValueError, match="every rater"):
        kendalls_w([[1, 2], [1, float("nan")]])


def test_first_round_cannot_converge() -> None:
    result = converged(None, {"a": [5, 5, 5, 6]})
    assert not result.converged and not result.stop
    assert result.reasons == {"a": ("no previous round to show the median is stable",)}


def test_converges_when_spread_small_and_median_stable() -> None:
    r1 = {"a": [5, 6, 7, 8], "b": [2, 3, 3, 4]}
    r2 = {"a": [6, 6, 7, 7], "b": [3, 3, 3, 4]}
    result = converged(r1, r2, ConvergenceRule(max_iqr=1.0, max_median_shift=0.5))
    assert result.converged and result.stop
    # [6, 6, 7, 7]: quartiles at positions 0.75 and 2.25 -> 6 and 7
    assert result.items["a"].median_shift == 0.0 and result.items["a"].iqr == 1.0
    assert result.w is not None  # aligned by position: 4 experts x 2 items
    assert result.panel_reasons == ()


def test_reasons_name_spread_and_shift() -> None:
    r1 = {"a": [1, 2, 3, 4], "b": [5, 5, 5, 5]}
    r2 = {"a": [1, 3, 6, 9], "b": [6, 6, 6, 6]}
    result = converged(r1, r2, ConvergenceRule(max_iqr=1.0, max_median_shift=0.5))
    assert not result.converged
    # [1, 3, 6, 9]: q1 = 1 + 0.75 * 2 = 2.5, q3 = 6 + 0.25 * 3 = 6.75
    assert result.reasons["a"][0] == "IQR 4.25 above 1"
    assert result.reasons["b"] == ("median moved +1 (more than 0.5)",)
    assert "2 of 2 items not converged" in result.panel_reasons


def test_min_w_uses_experts_who_rated_everything() -> None:
    r1 = {"a": {"e1": 1, "e2": 9, "e3": 5}, "b": {"e1": 9, "e2": 1, "e3": 5}}
    r2 = {"a": {"e1": 1, "e2": 9, "e3": 5, "e4": 5}, "b": {"e1": 9, "e2": 1, "e3": 5}}
    rule = ConvergenceRule(max_iqr=10, max_median_shift=1, min_w=0.5)
    result = converged(r1, r2, rule)
    assert result.w is not None and result.w.raters == 3  # e4 did not rate b
    assert result.w.w == pytest.approx(0.0)  # e1 and e2 exactly opposed, e3 tied
    assert not result.converged
    assert any("Kendall's W 0.000 below 0.5" in r for r in result.panel_reasons)


def test_stops_at_max_rounds_without_converging() -> None:
    r = {"a": [1, 5, 9, 9]}
    result = converged(r, r, ConvergenceRule(max_rounds=3), round_number=3)
    assert result.stop and not result.converged
    assert result.panel_reasons[-1] == "stopped after the maximum of 3 rounds"
    assert not converged(r, r, ConvergenceRule(max_rounds=3), round_number=2).stop
