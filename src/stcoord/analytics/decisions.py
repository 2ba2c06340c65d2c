"""Is a decision valid under its body's seats, quorum and decision rule?

Quorum grammar (a body's ``decision.quorum``)::

    quorum := part ( "+" part )*
    part   := "chair" | NUMBER | FRACTION "of" quantity | "all" quantity
    FRACTION := half | third | quarter | two_thirds | majority

``chair`` requires the chair (or a co-chair) present; ``majority of members`` requires more than
half of the ``members`` (seats other than the chair's) present; quantities are those of
:mod:`stcoord.analytics.composition`. Example: ``chair + majority of members`` (CSTI).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from stcoord.analytics.composition import (
    FRACTIONS,
    RuleSyntaxError,
    SeatCount,
    count_quantity,
    is_quantity,
)

CHAIR_ROLES = ("chair", "co_chair")


@dataclass(frozen=True)
class Attendance:
    """How many holders of each kind of seat were present."""

    role: str
    holder_type: str
    present: int


@dataclass(frozen=True)
class QuorumCheck:
    met: bool
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class DecisionCheck:
    """Whether a recorded decision stands, and every reason it does not."""

    valid: bool
    quorum: QuorumCheck
    problems: tuple[str, ...]


def _required(part: str, seats: list[SeatCount]) -> tuple[str, int, bool]:
    """(quantity, how many must be present, strictly more than?) for one quorum part."""
    words = part.split()
    if words == ["chair"]:
        return "chair", 1, False
    if len(words) == 1 and words[0].isdigit():
        return "seats", int(words[0]), False
    if len(words) == 2 and words[0] == "all" and is_quantity(words[1]):
        return words[1], count_quantity(words[1], seats), False
    if len(words) == 3 and words[1] == "of" and is_quantity(words[2]):
        total = count_quantity(words[2], seats)
        if words[0] == "majority":
            return words[2], total // 2 + 1, False
        if words[0] in FRACTIONS:
            return words[2], math.ceil(FRACTIONS[words[0]] * total), False
    raise RuleSyntaxError(f"bad quorum part {part!r}")


def parse_quorum(quorum: str) -> list[str]:
    """Split and check a quorum expression.

    >>> parse_quorum("chair + majority of members")
    ['chair', 'majority of members']
    """
    parts = [p.strip() for p in quorum.split("+") if p.strip()]
    if not parts:
        raise RuleSyntaxError("empty quorum")
    probe = [SeatCount("chair", "head_of_government", 1), SeatCount("member", "minister", 2)]
    for part in parts:
        _required(part, probe)
    return parts


def _present(quantity: str, attendance: Iterable[Attendance]) -> int:
    if quantity == "chair":
        return sum(a.present for a in attendance if a.role in CHAIR_ROLES)
    return count_quantity(
        quantity, [SeatCount(a.role, a.holder_type, a.present) for a in attendance]
    )


def check_quorum(
    quorum: str | None, seats: Iterable[SeatCount], attendance: Iterable[Attendance]
) -> QuorumCheck:
    """Check attendance against a quorum; with no quorum stated, a majority of seats is needed.

    >>> seats = [SeatCount("chair", "head_of_government", 1),
    ...          SeatCount("member", "minister", 4)]
    >>> present = [Attendance("chair", "head_of_government", 1),
    ...            Attendance("member", "minister", 2)]
    >>> check_quorum("chair + majority of members", seats, present).met
    False
    """
    seat_list, present = list(seats), list(attendance)
    parts = parse_quorum(quorum or "majority of seats")
    lines, met = [], True
    for part in parts:
        quantity, needed, _ = _required(part, seat_list)
        have = _present(quantity, present)
        ok = have >= needed
        met &= ok
        lines.append(f"{part}: {have} present, {needed} needed ({'met' if ok else 'not met'})")
    return QuorumCheck(met, tuple(lines))


def check_decision(
    *,
    rule: str | None,
    quorum: str | None,
    seats: Iterable[SeatCount],
    attendance: Iterable[Attendance],
    outcome: str,
    votes_for: int = 0,
    votes_against: int = 0,
    consensus: bool = False,
    chair_decided: bool = False,
) -> DecisionCheck:
    """Check a decision against its body's rule (see :class:`DecisionRuleKind`).

    ``consensus_then_chair``: unanimity of those present is sought; failing it the chair decides.
    ``majority``/``two_thirds``: counted over votes cast. ``unanimity``: no vote against.
    """
    seat_list, present = list(seats), list(attendance)
    quorum_check = check_quorum(quorum, seat_list, present)
    problems: list[str] = [] if quorum_check.met else ["quorum not met"]
    for a in present:
        offered = sum(
            s.count for s in seat_list if (s.role, s.holder_type) == (a.role, a.holder_type)
        )
        if a.present > offered:
            problems.append(
                f"{a.present} present as {a.role}/{a.holder_type}, "
                f"but the body has {offered} such seat(s)"
            )
    if outcome not in ("approved", "rejected", "deferred"):
        problems.append(f"unknown outcome {outcome!r}")
    if outcome == "approved":  # a rejection or a deferral needs only the quorum
        problems += _rule_problems(
            rule, present, votes_for, votes_against, consensus, chair_decided
        )
    return DecisionCheck(not problems, quorum_check, tuple(problems))


def _rule_problems(
    rule: str | None,
    present: list[Attendance],
    votes_for: int,
    votes_against: int,
    consensus: bool,
    chair_decided: bool,
) -> list[str]:
    chair_present = _present("chair", present) > 0
    cast = votes_for + votes_against
    if rule in (None, "consensus", "unanimity"):
        if rule == "unanimity" and votes_against:
            return ["the rule needs unanimity but votes were cast against"]
        if rule == "consensus" and not consensus:
            return ["the rule needs consensus, and none was recorded"]
        return []
    if rule == "consensus_then_chair":
        if consensus:
            return []
        if chair_decided and chair_present:
            return []
        return ["no consensus was recorded and the chair (present) did not decide"]
    if rule == "chair_decides":
        return [] if chair_present and chair_decided else ["the chair must be present and decide"]
    if rule == "majority":
        return [] if cast and votes_for * 2 > cast else ["no majority of votes cast"]
    if rule == "two_thirds":
        return [] if cast and votes_for * 3 >= 2 * cast else ["no two-thirds majority"]
    return [f"unknown decision rule {rule!r}"]
