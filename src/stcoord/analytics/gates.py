"""Gate conditions of a plan stage: which are unmet, given plain facts about the plan.

A stage's gate is a list of conditions declared in the mechanism's procedure template (see
``GateKind``). :func:`unmet_conditions` returns *every* unmet condition with a reason a person
can act on, so a refused transition says everything that blocks it at once.

>>> stage = StageFacts(seq=2, key="rfi", channels=("industry", "academia"),
...                    gate=(Condition("channels_heard"),))
>>> [u.message for u in unmet_conditions(stage, PlanFacts(stages=(stage,)))]
['no input yet from industry, academia']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Condition:
    kind: str
    body: str | None = None
    output: str | None = None
    channels: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class StageFacts:
    """What is on record for one stage of a plan."""

    seq: int
    key: str
    status: str = "open"  # pending | open | closed
    channels: tuple[str, ...] = ()
    gate: tuple[Condition, ...] = ()
    outputs: frozenset[str] = frozenset()  # outputs recorded
    heard: frozenset[str] = frozenset()  # channels with at least one input
    advisory_bodies: frozenset[str] = frozenset()  # bodies whose opinion is on record
    approved_by: frozenset[str] = frozenset()  # bodies with a valid approving decision
    unanswered_comments: int = 0


@dataclass(frozen=True)
class PlanFacts:
    stages: tuple[StageFacts, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Unmet:
    kind: str
    message: str


def _output(stage: StageFacts, c: Condition, plan: PlanFacts) -> list[Unmet]:
    if c.output and c.output not in stage.outputs:
        return [Unmet(c.kind, f"output not recorded: {c.output}")]
    if not c.output and not stage.outputs:
        return [Unmet(c.kind, "no output recorded")]
    return []


def _channels(stage: StageFacts, c: Condition, plan: PlanFacts) -> list[Unmet]:
    wanted = c.channels or stage.channels
    missing = [ch for ch in wanted if ch not in stage.heard]
    return [Unmet(c.kind, f"no input yet from {', '.join(missing)}")] if missing else []


def _advisory(stage: StageFacts, c: Condition, plan: PlanFacts) -> list[Unmet]:
    if c.body and c.body not in stage.advisory_bodies:
        return [Unmet(c.kind, f"the opinion of {c.body} is not on record")]
    if not c.body and not stage.advisory_bodies:
        return [Unmet(c.kind, "no advisory opinion on record")]
    return []


def _decision(stage: StageFacts, c: Condition, plan: PlanFacts) -> list[Unmet]:
    if c.body and c.body not in stage.approved_by:
        return [Unmet(c.kind, f"no valid approving decision by {c.body} is on record")]
    if not c.body and not stage.approved_by:
        return [Unmet(c.kind, "no valid approving decision on record")]
    return []


def _prior(stage: StageFacts, c: Condition, plan: PlanFacts) -> list[Unmet]:
    open_before = [s.key for s in plan.stages if s.seq < stage.seq and s.status != "closed"]
    if open_before:
        return [Unmet(c.kind, f"earlier stages not closed: {', '.join(open_before)}")]
    return []


def _comments(stage: StageFacts, c: Condition, plan: PlanFacts) -> list[Unmet]:
    n = stage.unanswered_comments
    return [Unmet(c.kind, f"{n} comment(s) have no official disposition yet")] if n else []


CHECKS: dict[str, Callable[[StageFacts, Condition, PlanFacts], list[Unmet]]] = {
    "output_recorded": _output,
    "channels_heard": _channels,
    "advisory_opinion": _advisory,
    "decision_by_body": _decision,
    "prior_stages_closed": _prior,
    "comments_answered": _comments,
}


def unmet_conditions(stage: StageFacts, plan: PlanFacts) -> list[Unmet]:
    """Every gate condition of ``stage`` that the facts do not satisfy (empty: it may close)."""
    unmet: list[Unmet] = []
    for condition in stage.gate:
        check = CHECKS.get(condition.kind)
        if check is None:
            unmet.append(Unmet(condition.kind, f"unknown gate condition {condition.kind!r}"))
        else:
            unmet += check(stage, condition, plan)
    return unmet
