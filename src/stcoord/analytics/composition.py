"""Composition rules over a body's seats: ``members <= 14``, ``experts >= half of members``.

Grammar (whitespace-separated)::

    rule     := quantity OP expr
    OP       := <= | >= | == | < | > | !=
    expr     := NUMBER | quantity | NUMBER * quantity | FRACTION of quantity
    FRACTION := half | third | quarter | two_thirds | majority
    quantity := seats | members | experts | ministers | officials | government
              | a holder type (e.g. expert_industry) | a seat role (e.g. chair)

``seats`` counts every seat, ``members`` every seat but the chair's, ``experts`` the academic and
industry experts and academy presidents, ``government`` every holder from government.
``majority of X`` means more than half of X.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from stcoord.analytics.vocabulary import (
    EXPERT_HOLDERS,
    GOVERNMENT_HOLDERS,
    HolderType,
    SeatRole,
)

OPERATORS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "!=": operator.ne,
}
FRACTIONS = {
    "half": Fraction(1, 2),
    "third": Fraction(1, 3),
    "quarter": Fraction(1, 4),
    "two_thirds": Fraction(2, 3),
}
GROUPS = {"seats", "members", "experts", "ministers", "officials", "government"}
_RULE = re.compile(r"^\s*(\w+)\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$")


class RuleSyntaxError(ValueError):
    """The rule text does not follow the grammar in this module's docstring."""


@dataclass(frozen=True)
class SeatCount:
    """The part of a seat a composition rule looks at."""

    role: str
    holder_type: str
    count: int


@dataclass(frozen=True)
class RuleCheck:
    """The result of evaluating one rule: both sides and whether it holds."""

    rule: str
    left: Fraction
    right: Fraction
    holds: bool

    def describe(self) -> str:
        verdict = "holds" if self.holds else "broken"
        return f"{self.rule}: {_fmt(self.left)} vs {_fmt(self.right)} ({verdict})"


def _fmt(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.2f}"


def is_quantity(word: str) -> bool:
    return word in GROUPS or word in HolderType.__members__ or word in SeatRole.__members__


def parse_rule(rule: str) -> tuple[str, str, str]:
    """Split a rule into (quantity, operator, expression), raising :class:`RuleSyntaxError`.

    >>> parse_rule("experts >= half of members")
    ('experts', '>=', 'half of members')
    """
    match = _RULE.match(rule)
    if not match:
        raise RuleSyntaxError(f"not a rule of the form 'quantity OP expression': {rule!r}")
    left, op, expr = match.groups()
    if not is_quantity(left):
        raise RuleSyntaxError(f"unknown quantity {left!r} in {rule!r}")
    _expression_parts(expr, rule)
    return left, op, expr


def _expression_parts(expr: str, rule: str) -> tuple[Fraction, str | None, bool]:
    """Return (factor, quantity or None, strict majority?) for an expression."""
    words = expr.split()
    if len(words) == 1:
        if is_quantity(words[0]):
            return Fraction(1), words[0], False
        try:
            return Fraction(words[0]), None, False
        except ValueError:
            raise RuleSyntaxError(f"bad expression {expr!r} in {rule!r}") from None
    if len(words) == 3 and words[1] == "of" and is_quantity(words[2]):
        if words[0] == "majority":
            return Fraction(1, 2), words[2], True
        if words[0] in FRACTIONS:
            return FRACTIONS[words[0]], words[2], False
    if len(words) == 3 and words[1] == "*" and is_quantity(words[2]):
        try:
            return Fraction(words[0]), words[2], False
        except ValueError:
            pass
    raise RuleSyntaxError(f"bad expression {expr!r} in {rule!r}")


def count_quantity(quantity: str, seats: Iterable[SeatCount]) -> int:
    """Count the seats a quantity names.

    >>> count_quantity("members", [SeatCount("chair", "head_of_government", 1),
    ...                            SeatCount("member", "minister", 6)])
    6
    """
    total = 0
    for seat in seats:
        if _seat_counts(quantity, seat):
            total += seat.count
    return total


def _seat_counts(quantity: str, seat: SeatCount) -> bool:
    if quantity == "seats":
        return True
    if quantity == "members":
        return seat.role != SeatRole.chair
    if quantity == "experts":
        return seat.holder_type in EXPERT_HOLDERS
    if quantity == "ministers":
        return seat.holder_type == HolderType.minister
    if quantity == "officials":
        return seat.holder_type in (HolderType.official, HolderType.agency_head)
    if quantity == "government":
        return seat.holder_type in GOVERNMENT_HOLDERS
    return quantity in (seat.holder_type, seat.role)


def evaluate_rule(rule: str, seats: Iterable[SeatCount]) -> RuleCheck:
    """Evaluate a composition rule against seats.

    >>> seats = [SeatCount("chair", "head_of_government", 1),
    ...          SeatCount("member", "minister", 6), SeatCount("member", "expert_academia", 8)]
    >>> evaluate_rule("experts >= half of members", seats).holds
    True
    """
    seat_list = list(seats)
    left_name, op, expr = parse_rule(rule)
    factor, quantity, strict = _expression_parts(expr, rule)
    left = Fraction(count_quantity(left_name, seat_list))
    right = factor * (count_quantity(quantity, seat_list) if quantity else 1)
    holds = OPERATORS[op](left, right)
    if strict and op in (">=", "==") and left == right:
        holds = False  # "majority of" means strictly more than half
    return RuleCheck(rule=rule, left=left, right=right, holds=holds)
