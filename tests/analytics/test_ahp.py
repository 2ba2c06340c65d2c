"""AHP priorities against Saaty's published examples, and the properties that must hold."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stcoord.analytics.ahp import (
    RANDOM_INDEX,
    Judgement,
    PriorityInputError,
    ahp_from_judgements,
    ahp_priorities,
    direct_priorities,
    pairwise_matrix,
)

# Saaty, "How to make a decision: the analytic hierarchy process", European Journal of
# Operational Research 48 (1990) 9-26: criteria for buying a house. Published priorities
# .173 .054 .188 .018 .031 .036 .167 .333, lambda_max 9.669, CI .238, CR .169.
HOUSE = ["size", "transport", "neighbourhood", "age", "yard", "modern", "condition", "finance"]
HOUSE_MATRIX = [
    [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
    [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
    [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
    [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
    [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
    [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
    [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
    [4, 7, 5, 8, 6, 6, 2, 1],
]
HOUSE_WEIGHTS = [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333]

# Saaty, "A scaling method for priorities in hierarchical structures", Journal of
# Mathematical Psychology 15 (1977) 234-281: relative brightness of four chairs placed at
# different distances from a light. Published lambda_max 4.39, CI 0.13, CR 0.14 and
# eigenvector 0.61, 0.24, 0.10, 0.05 (the inverse-square law gives 0.61, 0.22, 0.11, 0.06).
LIGHT_MATRIX = [
    [1, 5, 6, 7],
    [1 / 5, 1, 4, 6],
    [1 / 6, 1 / 4, 1, 4],
    [1 / 7, 1 / 6, 1 / 4, 1],
]


def test_saaty_house_example() -> None:
    result = ahp_priorities(HOUSE_MATRIX, HOUSE)
    assert list(result.weights) == HOUSE
    assert list(result.weights.values()) == pytest.approx(HOUSE_WEIGHTS, abs=0.0006)
    consistency = result.consistency
    assert consistency is not None
    assert consistency.lambda_max == pytest.approx(9.669, abs=0.0006)
    assert consistency.index == pytest.approx(0.238, abs=0.0006)
    assert consistency.random_index == 1.41
    assert consistency.ratio == pytest.approx(0.169, abs=0.0006)
    assert not consistency.consistent
    assert consistency.warning is not None and "0.169 is above 0.1" in consistency.warning


def test_saaty_light_intensity_example() -> None:
    result = ahp_priorities(LIGHT_MATRIX, ["c1", "c2", "c3", "c4"])
    assert list(result.weights.values()) == pytest.approx([0.61, 0.24, 0.10, 0.05], abs=0.01)
    consistency = result.consistency
    assert consistency is not None
    assert consistency.lambda_max == pytest.approx(4.39, abs=0.005)
    assert consistency.index == pytest.approx(0.13, abs=0.005)
    assert consistency.ratio == pytest.approx(0.14, abs=0.005)
    assert not consistency.consistent


def test_the_same_example_through_judgements() -> None:
    judgements = [
        Judgement(HOUSE[i], HOUSE[j], Fraction(HOUSE_MATRIX[i][j]).limit_denominator(9))
        for i, j in itertools.combinations(range(len(HOUSE)), 2)
    ]
    result = ahp_from_judgements(HOUSE, judgements)
    assert list(result.weights.values()) == pytest.approx(HOUSE_WEIGHTS, abs=0.0006)
    assert result.matrix is not None and np.allclose(result.matrix, HOUSE_MATRIX)


def test_random_index_is_saatys_table() -> None:
    assert [RANDOM_INDEX[n] for n in range(1, 16)] == [
        0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
    ]  # fmt: skip


# --- properties -----------------------------------------------------------------------------

generating_vectors = st.lists(st.floats(1.0, 9.0), min_size=1, max_size=15)


@given(generating_vectors)
def test_a_consistent_matrix_returns_its_generating_vector(vector: list[float]) -> None:
    w = np.array(vector)
    matrix = w[:, None] / w[None, :]  # a_ij = w_i / w_j: perfectly consistent, on the scale
    result = ahp_priorities(matrix)
    assert list(result.weights.values()) == pytest.approx(list(w / w.sum()), abs=1e-9)
    consistency = result.consistency
    assert consistency is not None
    assert consistency.lambda_max == pytest.approx(len(w), abs=1e-9)
    assert consistency.ratio == pytest.approx(0.0, abs=1e-9)
    assert consistency.consistent and consistency.warning is None


saaty_values = st.sampled_from([Fraction(1, k) for k in range(2, 10)] + list(range(1, 10)))


@st.composite
def reciprocal_matrices(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(3, 9))
    matrix = np.eye(n)
    for i, j in itertools.combinations(range(n), 2):
        value = float(draw(saaty_values))
        matrix[i, j], matrix[j, i] = value, 1 / value
    return matrix


@given(reciprocal_matrices())
def test_any_reciprocal_matrix_gives_positive_weights_summing_to_one(matrix: np.ndarray) -> None:
    result = ahp_priorities(matrix)
    weights = np.array(list(result.weights.values()))
    assert np.all(weights > 0) and weights.sum() == pytest.approx(1.0)
    consistency = result.consistency
    assert consistency is not None
    n = len(matrix)
    assert consistency.lambda_max >= n - 1e-9  # Perron root of a reciprocal matrix
    assert consistency.ratio == pytest.approx(consistency.index / RANDOM_INDEX[n])
    assert consistency.consistent == (consistency.ratio <= 0.1)
    # The weights are the eigenvector: A w = lambda_max w.
    assert matrix @ weights == pytest.approx(consistency.lambda_max * weights, rel=1e-9)


@given(reciprocal_matrices(), st.randoms(use_true_random=False))
def test_renaming_the_items_permutes_the_weights(matrix: np.ndarray, rng) -> None:  # type: ignore[no-untyped-def]
    n = len(matrix)
    order = list(range(n))
    rng.shuffle(order)
    names = [f"i{k}" for k in range(n)]
    original = ahp_priorities(matrix, names)
    shuffled = ahp_priorities(matrix[np.ix_(order, order)], [names[k] for k in order])
    for name in names:
        assert shuffled.weights[name] == pytest.approx(original.weights[name], abs=1e-12)


def test_one_and_two_items_are_always_consistent() -> None:
    one = ahp_priorities([[1.0]], ["ai"])
    assert one.weights == {"ai": 1.0}
    two = ahp_from_judgements(["ai", "bio"], [("ai", "bio", 4)])
    assert two.weights == pytest.approx({"ai": 0.8, "bio": 0.2})
    assert two.consistency is not None and two.consistency.ratio == 0.0


# --- building the matrix from judgements ---------------------------------------------------


def test_judgements_fill_the_reciprocal_matrix() -> None:
    matrix = pairwise_matrix(
        ["a", "b", "c"],
        [("a", "b", 3), Judgement("c", "a", "1/5"), ("b", "c", Fraction(1, 2)), ("b", "a", "1/3")],
    )
    assert np.allclose(matrix, [[1, 3, 5], [1 / 3, 1, 1 / 2], [1 / 5, 2, 1]])


def test_every_judgement_problem_is_listed() -> None:
    with pytest.raises(PriorityInputError) as caught:
        pairwise_matrix(
            ["a", "b", "c", "d", "a"],
            [
                ("a", "b", 3),
                ("b", "a", 3),  # contradicts: it implies a/b = 1/3
                ("a", "x", 2),  # unknown item
                ("a", "c", 10),  # off the scale
                ("b", "c", 0.1),  # off the scale (below 1/9)
                ("c", "c", 2),  # itself
                ("b", "d", "three"),  # not a number
            ],
        )
    problems = caught.value.problems
    expected = [
        "item 'a' is listed twice",
        "judgement 2 ('b', 'a', 3) contradicts judgement 1 on ('a', 'b'): 1/3 against 3",
        "judgement 3 ('a', 'x', 2): unknown item(s) 'x'",
        "judgement 4 ('a', 'c', 10): value must be on Saaty's scale, between 1/9 and 9",
        "judgement 5 ('b', 'c', 0.1): value must be on Saaty's scale",
        "judgement 6 ('c', 'c', 2): an item compared with itself must be 1",
        "judgement 7 ('b', 'd', 'three'): value must be on Saaty's scale",
        "missing judgement for ('a', 'c')",
        "missing judgement for ('a', 'd')",
        "missing judgement for ('b', 'c')",
        "missing judgement for ('b', 'd')",
        "missing judgement for ('c', 'd')",
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
    assert str(caught.value).count("\n- ") == len(problems)


def test_agreeing_repeated_judgements_are_accepted() -> None:
    matrix = pairwise_matrix(["a", "b"], [("a", "b", 3), ("b", "a", "1/3"), ("a", "a", 1)])
    assert matrix[0, 1] == 3


def test_matrix_problems_are_listed() -> None:
    with pytest.raises(PriorityInputError) as caught:
        ahp_priorities([[1, 3, 12], [1 / 2, 2, 1], [1 / 12, 1, 1]], ["a", "b", "b"])
    problems = caught.value.problems
    for text in [
        "item 'b' is listed twice",
        "entry (0, 2) = 12 is off the 1/9..9 scale",
        "diagonal entry (1, 1) must be 1",
        "entries (0, 1) = 3 and (1, 0) = 0.5 are not reciprocal",
    ]:
        assert any(text in p for p in problems), (text, problems)
    with pytest.raises(PriorityInputError, match="square"):
        ahp_priorities([[1, 2]])
    with pytest.raises(PriorityInputError, match="stops at 15"):
        ahp_priorities(np.ones((16, 16)))


def test_a_rounded_reciprocal_is_tolerated() -> None:
    result = ahp_priorities([[1, 3], [0.33, 1]], ["a", "b"])
    assert result.weights["a"] == pytest.approx(0.75, abs=0.003)


# --- direct weights -------------------------------------------------------------------------


def test_direct_weights_are_normalised() -> None:
    result = direct_priorities({"ai": 2.0, "bio": np.int64(1), "space": 1})
    assert result.weights == {"ai": 0.5, "bio": 0.25, "space": 0.25}
    assert result.method == "direct" and result.consistency is None


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({}, "no weights given"),
        ({"ai": 0.0, "bio": 0.0}, "weights are all zero"),
        ({"ai": -1.0, "bio": 2.0}, "weight of 'ai' must be a finite number >= 0"),
        ({"ai": float("nan")}, "weight of 'ai' must be a finite number >= 0"),
        ({"ai": float("inf")}, "weight of 'ai' must be a finite number >= 0"),
        ({"ai": True}, "weight of 'ai' must be a finite number >= 0"),
        ({"ai": "3"}, "weight of 'ai' must be a finite number >= 0"),
    ],
)
def test_direct_weights_reject_bad_input(weights: dict[str, float], message: str) -> None:
    with pytest.raises(PriorityInputError, match=message):
        direct_priorities(weights)
