from fractions import Fraction

import pytest

from stcoord.analytics.composition import (
    RuleSyntaxError,
    SeatCount,
    count_quantity,
    evaluate_rule,
    parse_rule,
)

CSTI = [
    SeatCount("chair", "head_of_government", 1),
    SeatCount("member", "minister", 5),
    SeatCount("member", "budget_authority", 1),
    SeatCount("member", "expert_academia", 4),
    SeatCount("member", "expert_industry", 3),
    SeatCount("ex_officio", "academy_president", 1),
]


def test_members_exclude_the_chair_and_seats_include_it() -> None:
    assert count_quantity("members", CSTI) == 14
    assert count_quantity("seats", CSTI) == 15
    assert count_quantity("experts", CSTI) == 8
    assert count_quantity("ministers", CSTI) == 5
    assert count_quantity("government", CSTI) == 7
    assert count_quantity("expert_industry", CSTI) == 3
    assert count_quantity("chair", CSTI) == 1


@pytest.mark.parametrize(
    ("rule", "holds", "left", "right"),
    [
        ("members <= 14", True, 14, 14),
        ("members < 14", False, 14, 14),
        ("experts >= half of members", True, 8, 7),
        ("experts >= two_thirds of members", False, 8, Fraction(28, 3)),
        ("experts >= 0.5 * members", True, 8, 7),
        ("ministers == 5", True, 5, 5),
        ("seats != 15", False, 15, 15),
    ],
)
def test_rules_evaluate_both_sides(rule: str, holds: bool, left: int, right: Fraction) -> None:
    check = evaluate_rule(rule, CSTI)
    assert (check.holds, check.left, check.right) == (holds, left, right)


def test_majority_means_strictly_more_than_half() -> None:
    seats = [SeatCount("member", "expert_academia", 2), SeatCount("member", "minister", 2)]
    assert not evaluate_rule("experts >= majority of members", seats).holds
    seats.append(SeatCount("member", "expert_industry", 1))
    assert evaluate_rule("experts >= majority of members", seats).holds


@pytest.mark.parametrize(
    "rule",
    ["members", "wizards <= 3", "members <= lots", "members <= half members", "members =< 3"],
)
def test_bad_rules_raise_a_syntax_error(rule: str) -> None:
    with pytest.raises(RuleSyntaxError):
        parse_rule(rule)


def test_describe_shows_values_and_verdict() -> None:
    text = evaluate_rule("experts >= half of members", CSTI[:3]).describe()
    assert text == "experts >= half of members: 0 vs 3 (broken)"
