"""Diagnose a coordination mechanism against the paper's four findings, for one strategic field.

The input is plain data (:class:`MechanismFacts`); the output a frozen :class:`Diagnosis` with,
per finding, a verdict (``met``, ``partial``, ``not_met``), the evidence that supports it (each
with a path into the mechanism, e.g. ``bodies/nstc/seats[3]``) and the gaps.

The four findings (Sun & Shen 2022):

1. A body above the ministries coordinates administrative, technical *and* budgetary affairs for
   the field (through its own mandates, its sub-bodies', or a budget authority at its table).
2. Whoever sets the field's priorities also shapes the money: it, a sub-body or a member holds
   budget allocation power, funds or transfers budget, or issues a binding budget instrument.
3. A high-level advisory body feeds the top decisions on the field.
4. Across the procedure that forms the field's plan, ministries, industry and academia are each
   brought in.

Example:

>>> facts = MechanismFacts(code="X", fields=("ai",), bodies=(
...     BodyFact(key="council", level="supra_ministerial", kind="council", mandates=(
...         MandateFact("administrative", "coordinate"), MandateFact("technical", "decide"),
...         MandateFact("budgetary", "allocate"))),))
>>> diagnose(facts, "ai").findings[0].verdict
'met'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from stcoord.analytics.composition import SeatCount, evaluate_rule
from stcoord.analytics.vocabulary import EXPERT_HOLDERS

MET, PARTIAL, NOT_MET = "met", "partial", "not_met"
AFFAIRS = ("administrative", "technical", "budgetary")
TOP_LEVELS = ("head", "supra_ministerial")
ADVISORY_KINDS = ("advisory_committee", "expert_panel", "academy")
GOVERNMENT_SEATS = ("minister", "agency_head", "budget_authority")
STRONG_BUDGET_POWERS = ("allocate", "decide")
EVIDENCE_PER_AFFAIR = 3
GROUPS = ("ministries", "industry", "academia")
CHANNEL_GROUPS = {
    "interagency": ("ministries",),
    "industry": ("industry",),
    "academia": ("academia",),
    "rfi": ("industry", "academia"),
    "public_comment": ("industry", "academia"),
}
SEAT_GROUPS = {
    "expert_industry": "industry",
    "expert_academia": "academia",
    "academy_president": "academia",
}
TITLES = {
    1: "Supra-ministerial coordination of administrative, technical and budgetary affairs",
    2: "Unity of administrative and financial power",
    3: "A high-level advisory body feeds top-level decisions",
    4: "Consensus of ministries, industry and academia across the procedure",
}


@dataclass(frozen=True)
class SeatFact:
    role: str
    holder_type: str
    title: str = ""
    count: int = 1
    holder_body: str | None = None


@dataclass(frozen=True)
class MandateFact:
    affair: str
    power: str
    scope: str | tuple[str, ...] = "all"
    description: str = ""
    instrument: str | None = None
    binding: bool = False

    def applies_to(self, field_key: str) -> bool:
        return self.scope == "all" or field_key in self.scope


@dataclass(frozen=True)
class BodyFact:
    key: str
    level: str
    kind: str
    name: str = ""
    parent: str | None = None
    abolished: str | None = None
    seats: tuple[SeatFact, ...] = ()
    mandates: tuple[MandateFact, ...] = ()
    composition: tuple[str, ...] = ()
    decision_rule: str | None = None
    quorum: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.key


@dataclass(frozen=True)
class RelationFact:
    from_body: str
    to_body: str
    type: str


@dataclass(frozen=True)
class StageFact:
    key: str
    name: str
    actor: str
    participants: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProcedureFact:
    key: str
    name: str
    fields: str | tuple[str, ...] = "all"
    stages: tuple[StageFact, ...] = ()

    def applies_to(self, field_key: str) -> bool:
        return self.fields == "all" or field_key in self.fields


@dataclass(frozen=True)
class MechanismFacts:
    code: str
    bodies: tuple[BodyFact, ...] = ()
    relations: tuple[RelationFact, ...] = ()
    procedures: tuple[ProcedureFact, ...] = ()
    fields: tuple[str, ...] = ()
    name: str = ""


def N_(message: str) -> str:
    """Mark an English message for translation; the web layer translates it (see Message)."""
    return message


@dataclass(frozen=True)
class Param:
    """One value in a :class:`Message`: ``kind`` tells a reader how to show it in its language.

    ``body`` (value is a body key), ``term:<group>`` (a vocabulary word of that group),
    ``terms:<group>`` (several, comma-separated), ``text`` (data, shown as it is) or
    ``message`` (value is a nested template, formatted with the same parameters).
    """

    name: str
    kind: str
    value: str
    english: str


@dataclass(frozen=True)
class Message:
    """A sentence as an English template with named parameters, so it can be translated."""

    template: str
    params: tuple[Param, ...] = ()

    def english(self) -> str:
        return self.template.format(**{p.name: p.english for p in self.params})


def _body(name: str, body: BodyFact) -> Param:
    return Param(name, "body", body.key, body.label)


def _term(name: str, group: str, value: str) -> Param:
    return Param(name, f"term:{group}", value, value)


def _terms(name: str, group: str, values: Iterable[str]) -> Param:
    joined = ", ".join(values)
    return Param(name, f"terms:{group}", joined, joined)


def _text(name: str, value: object) -> Param:
    return Param(name, "text", str(value), str(value))


def _say(template: str, *params: Param) -> Message:
    return Message(template, params)


@dataclass(frozen=True)
class Evidence:
    kind: str  # body | seat | mandate | relation | stage
    path: str
    text: str  # in English; ``message`` is the same sentence for translation
    message: Message | None = None


def _evidence(kind: str, path: str, message: Message) -> Evidence:
    return Evidence(kind, path, message.english(), message)


@dataclass(frozen=True)
class FindingResult:
    finding: int
    title: str
    verdict: str
    evidence: tuple[Evidence, ...]
    gaps: tuple[str, ...]  # in English; ``gap_messages`` are the same for translation
    gap_messages: tuple[Message, ...] = ()


def _finding(
    n: int, verdict: str, evidence: Iterable[Evidence], gaps: Iterable[Message] = ()
) -> FindingResult:
    gap_messages = tuple(gaps)
    return FindingResult(
        n,
        TITLES[n],
        verdict,
        tuple(evidence),
        tuple(g.english() for g in gap_messages),
        gap_messages,
    )


@dataclass(frozen=True)
class Check:
    """A composition or decision-rule check on one body."""

    body: str
    kind: str  # composition | decision
    rule: str
    holds: bool
    detail: str


@dataclass(frozen=True)
class Diagnosis:
    code: str
    field: str
    findings: tuple[FindingResult, ...]
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = ()
    note_messages: tuple[Message, ...] = ()


@dataclass
class _Index:
    """Lookups over the active (not abolished) bodies of a mechanism."""

    facts: MechanismFacts
    bodies: dict[str, BodyFact] = field(init=False)
    positions: dict[str, int] = field(init=False)
    children: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.bodies = {b.key: b for b in self.facts.bodies if not b.abolished}
        self.positions = {b.key: i for i, b in enumerate(self.facts.bodies)}
        self.children = {}
        for b in self.bodies.values():
            if b.parent:
                self.children.setdefault(b.parent, []).append(b.key)

    def subtree(self, key: str) -> Iterator[BodyFact]:
        """The body and all its active descendants, depth first."""
        stack, seen = [key], set()
        while stack:
            current = stack.pop()
            if current in seen or current not in self.bodies:
                continue
            seen.add(current)
            yield self.bodies[current]
            stack.extend(reversed(self.children.get(current, [])))

    def mandates(self, body: BodyFact, field_key: str) -> Iterator[tuple[int, MandateFact]]:
        for i, mandate in enumerate(body.mandates):
            if mandate.applies_to(field_key):
                yield i, mandate


def _mandate_ev(body: BodyFact, i: int, m: MandateFact) -> Evidence:
    if m.scope == "all":
        scope = _nested("scope", _say(N_("all fields")))
    else:
        scope = (_text("scope", ", ".join(m.scope)),)
    if m.instrument:
        instrument = _nested(
            "instrument", _say(N_("; instrument: {name}"), _text("name", m.instrument))
        )
    else:
        instrument = (_text("instrument", ""),)
    message = _say(
        N_("{body}: {affair}/{power} ({scope}){description}{instrument}"),
        _body("body", body),
        _term("affair", "affair", m.affair),
        _term("power", "power", m.power),
        *scope,
        _text("description", f": {m.description}" if m.description else ""),
        *instrument,
    )
    return _evidence("mandate", f"bodies/{body.key}/mandates[{i}]", message)


def _seat_ev(body: BodyFact, i: int, seat: SeatFact, why: Message) -> Evidence:
    message = _say(
        N_("{body}: {seat} ({why})"),
        _body("body", body),
        _text("seat", seat.title),
        *_nested("why", why),
    )
    return _evidence("seat", f"bodies/{body.key}/seats[{i}]", message)


def _nested(name: str, inner: Message) -> tuple[Param, ...]:
    """The parameters of a message inside another: the inner template, then its own values."""
    return (Param(name, "message", inner.template, inner.english()), *inner.params)


def diagnose(facts: MechanismFacts, field_key: str) -> Diagnosis:
    """Evaluate the four findings for ``field_key`` (see the module docstring)."""
    index = _Index(facts)
    notes = []
    if facts.fields and field_key not in facts.fields:
        notes.append(
            _say(
                N_(
                    "'{field}' is not among this mechanism's strategic fields; only mandates "
                    "and procedures covering all fields apply"
                ),
                _text("field", field_key),
            )
        )
    finding1, coordinators = _finding_1(index, field_key)
    findings = (
        finding1,
        _finding_2(index, field_key, coordinators),
        _finding_3(index, field_key),
        _finding_4(index, field_key),
    )
    return Diagnosis(
        facts.code,
        field_key,
        findings,
        tuple(_checks(index)),
        tuple(n.english() for n in notes),
        tuple(notes),
    )


def _verdict(strong: bool, weak: bool) -> str:
    return MET if strong else PARTIAL if weak else NOT_MET


# ---------------------------------------------------------------- finding 1


def _affairs_of(
    index: _Index, top: BodyFact, field_key: str
) -> tuple[dict[str, list[Evidence]], set[str]]:
    """Which affairs a supra-ministerial body covers for the field, through what (strongest
    evidence first), and which of them it covers itself rather than through a sub-body."""
    ranked: dict[str, list[tuple[int, Evidence]]] = {a: [] for a in AFFAIRS}
    direct: set[str] = set()
    for body in index.subtree(top.key):
        own = body.key == top.key
        for i, m in index.mandates(body, field_key):
            ranked[m.affair].append((1 if own else 2, _mandate_ev(body, i, m)))
            if own:
                direct.add(m.affair)
        for i, seat in enumerate(body.seats):
            if not _holds_budget_power(index, seat, field_key):
                continue
            # The paper's own example is the budget authority at the table (OMB on NSTC, the
            # Finance Minister on CSTI); a minister whose department spends its own money is
            # weaker evidence of budgetary coordination.
            if seat.holder_type == "budget_authority":
                rank, why = 0, _say(N_("budget authority at the table"))
            else:
                rank, why = 3, _say(N_("its department allocates its own budget"))
            ranked["budgetary"].append((rank, _seat_ev(body, i, seat, why)))
            if own:
                direct.add("budgetary")
    covered = {a: [e for _, e in sorted(ranked[a], key=lambda item: item[0])] for a in AFFAIRS}
    return covered, direct


def _holds_budget_power(index: _Index, seat: SeatFact, field_key: str) -> bool:
    if seat.holder_type == "budget_authority":
        return True
    holder = index.bodies.get(seat.holder_body or "")
    return holder is not None and any(
        m.affair == "budgetary" and m.power in STRONG_BUDGET_POWERS
        for _, m in index.mandates(holder, field_key)
    )


def _finding_1(index: _Index, field_key: str) -> tuple[FindingResult, list[str]]:
    supra = [b for b in index.bodies.values() if b.level == "supra_ministerial"]
    scored = []
    for body in supra:
        covered, direct = _affairs_of(index, body, field_key)
        n = sum(1 for a in AFFAIRS if covered[a])
        if n:
            scored.append(((n, len(direct)), body, covered))
    if not scored:
        gap = (
            N_("no supra-ministerial body has a mandate covering this field")
            if supra
            else N_("the mechanism has no supra-ministerial body")
        )
        return _finding(1, NOT_MET, (), (_say(gap),)), []
    # Prefer the bodies that cover most affairs, and among them those that do so themselves
    # (CSTI rather than the Cabinet Office it sits in).
    best = max(score for score, _, _ in scored)
    winners = [(b, c) for score, b, c in scored if score == best]
    evidence: list[Evidence] = []
    for body, covered in winners:
        level = _say(
            N_("{body} ({level})"), _body("body", body), _term("level", "level", body.level)
        )
        evidence.append(_evidence("body", f"bodies/{body.key}", level))
        for affair in AFFAIRS:
            evidence.extend(covered[affair][:EVIDENCE_PER_AFFAIR])
    gaps = []
    if best[0] < 3:
        body, covered = winners[0]
        missing = [a for a in AFFAIRS if not covered[a]]
        gaps.append(
            _say(
                N_(
                    "{body} does not cover {affairs} affairs for this field, through its own "
                    "mandates, its sub-bodies or a budget authority among its seats"
                ),
                _body("body", body),
                _terms("affairs", "affair", missing),
            )
        )
    verdict = MET if best[0] == 3 else PARTIAL
    result = _finding(1, verdict, _dedupe(evidence), gaps)
    return result, [b.key for b, _ in winners]


# ---------------------------------------------------------------- finding 2


def _priority_setters(index: _Index, field_key: str, coordinators: list[str]) -> list[BodyFact]:
    keys = list(coordinators)
    for body in index.bodies.values():
        if (
            body.level == "supra_ministerial"
            and body.key not in keys
            and any(
                m.affair in ("administrative", "technical") and m.power in ("coordinate", "decide")
                for _, m in index.mandates(body, field_key)
            )
        ):
            keys.append(body.key)
    return [index.bodies[k] for k in keys]


def _finding_2(index: _Index, field_key: str, coordinators: list[str]) -> FindingResult:
    setters = _priority_setters(index, field_key, coordinators)
    if not setters:
        return _finding(
            2, NOT_MET, (), (_say(N_("no supra-ministerial body sets priorities for this field")),)
        )
    strong: list[Evidence] = []
    weak: list[Evidence] = []
    for setter in setters:
        for body in index.subtree(setter.key):
            for i, m in index.mandates(body, field_key):
                if m.affair != "budgetary":
                    continue
                if m.power in STRONG_BUDGET_POWERS or m.binding:
                    strong.append(_mandate_ev(body, i, m))
                else:
                    weak.append(_mandate_ev(body, i, m))
            for i, seat in enumerate(body.seats):
                if _holds_budget_power(index, seat, field_key):
                    why = _say(N_("a member holds budget power"))
                    strong.append(_seat_ev(body, i, seat, why))
            strong.extend(_money_relations(index, body))
    gaps = []
    if not strong:
        gaps.append(
            _say(
                N_(
                    "the bodies that set priorities ({bodies}) neither allocate money, nor have "
                    "a budget authority among their members, nor issue a binding budget "
                    "instrument"
                ),
                _text("bodies", ", ".join(s.label for s in setters)),
            )
        )
    return _finding(2, _verdict(bool(strong), bool(weak)), _dedupe(strong + weak), gaps)


def _money_relations(index: _Index, body: BodyFact) -> list[Evidence]:
    out = []
    for i, rel in enumerate(index.facts.relations):
        if rel.from_body == body.key and rel.type in ("funds", "transfers_budget_to"):
            target = index.bodies.get(rel.to_body)
            if target is not None:
                out.append(_relation_ev(i, body, rel.type, target))
    return out


def _relation_ev(
    i: int, source: BodyFact, type_: str, target: BodyFact, level: bool = False
) -> Evidence:
    params: tuple[Param, ...] = (
        _body("source", source),
        _term("relation", "relation", type_),
        _body("target", target),
    )
    if level:
        template = N_("{source} {relation} {target} ({level})")
        params = (*params, _term("level", "level", target.level))
    else:
        template = N_("{source} {relation} {target}")
    return _evidence("relation", f"relations[{i}]", _say(template, *params))


def _dedupe(items: Iterable[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.path not in seen:
            seen.add(item.path)
            out.append(item)
    return out


# ---------------------------------------------------------------- finding 3


def _is_advisory(body: BodyFact) -> bool:
    return body.level == "advisory" or body.kind in ADVISORY_KINDS


def _advises_field(index: _Index, body: BodyFact, field_key: str) -> bool:
    advice = [m for m in body.mandates if m.power in ("advise", "evaluate")]
    return not advice or any(m.applies_to(field_key) for m in advice)


def _finding_3(index: _Index, field_key: str) -> FindingResult:
    strong: list[Evidence] = []
    weak: list[Evidence] = []
    top = {k for k, b in index.bodies.items() if b.level in TOP_LEVELS}
    for i, rel in enumerate(index.facts.relations):
        source = index.bodies.get(rel.from_body)
        target = index.bodies.get(rel.to_body)
        if source is None or target is None or not _is_advisory(source):
            continue
        if rel.type not in ("advises", "reports_to"):
            continue
        ev = _relation_ev(i, source, rel.type, target, level=True)
        if rel.to_body in top and _advises_field(index, source, field_key):
            strong.append(ev)
        else:
            weak.append(ev)
    for key in sorted(top, key=lambda k: index.positions[k]):
        body = index.bodies[key]
        if not any(True for _ in index.mandates(body, field_key)):
            continue
        for i, seat in enumerate(body.seats):
            if seat.holder_type in EXPERT_HOLDERS and seat.count > 0:
                why = _say(N_("{count} expert seat(s) in the body"), _text("count", seat.count))
                strong.append(_seat_ev(body, i, seat, why))
    gaps = []
    if not strong:
        gaps.append(
            _say(
                N_(
                    "no advisory body advises a supra-ministerial or head-of-government body "
                    "on this field, and no expert sits in one"
                )
            )
        )
    return _finding(3, _verdict(bool(strong), bool(weak)), strong + weak, gaps)


# ---------------------------------------------------------------- finding 4


def _stage_groups(index: _Index, stage: StageFact) -> dict[str, Message]:
    """Which groups a stage brings in, each with the reason."""
    reached: dict[str, Message] = {}
    for channel in stage.channels:
        for group in CHANNEL_GROUPS.get(channel, ()):
            reached.setdefault(
                group, _say(N_("channel {channel}"), _term("channel", "channel", channel))
            )
    involved = [index.bodies[k] for k in (stage.actor, *stage.participants) if k in index.bodies]
    government = [b for b in involved if b.level in ("ministerial", "agency")]
    if len(government) >= 2:
        keys = ", ".join(b.key for b in government)
        reached.setdefault("ministries", _say(N_("participants {bodies}"), _text("bodies", keys)))
    for body in involved:
        ministers = sum(s.count for s in body.seats if s.holder_type in GOVERNMENT_SEATS)
        if ministers >= 2:
            reached.setdefault(
                "ministries",
                _say(
                    N_("{body} seats {count} ministers/heads"),
                    _body("body", body),
                    _text("count", ministers),
                ),
            )
        for seat in body.seats:
            seat_group = SEAT_GROUPS.get(seat.holder_type)
            if seat_group and seat.count > 0:
                reached.setdefault(
                    seat_group,
                    _say(N_("{body} seats {seat}"), _body("body", body), _text("seat", seat.title)),
                )
    return reached


def _finding_4(index: _Index, field_key: str) -> FindingResult:
    procedures = [p for p in index.facts.procedures if p.applies_to(field_key)]
    if not procedures:
        return _finding(4, NOT_MET, (), (_say(N_("no procedure template covers this field")),))
    best: tuple[int, ProcedureFact, dict[str, list[Evidence]]] | None = None
    for proc in procedures:
        by_group: dict[str, list[Evidence]] = {g: [] for g in GROUPS}
        for seq, stage in enumerate(proc.stages, start=1):
            for group, why in _stage_groups(index, stage).items():
                message = _say(
                    N_("{group}: stage {seq} '{stage}' ({why})"),
                    _term("group", "group", group),
                    _text("seq", seq),
                    _text("stage", stage.name),
                    *_nested("why", why),
                )
                by_group[group].append(
                    _evidence("stage", f"procedures/{proc.key}/stages/{stage.key}", message)
                )
        covered = sum(1 for g in GROUPS if by_group[g])
        if best is None or covered > best[0]:
            best = (covered, proc, by_group)
    assert best is not None
    covered, proc, by_group = best
    evidence = [e for g in GROUPS for e in by_group[g]]
    missing = [g for g in GROUPS if not by_group[g]]
    gaps = (
        (
            _say(
                N_("procedure '{procedure}' brings in no {groups} at any stage"),
                _text("procedure", proc.name),
                _terms("groups", "group", missing),
            ),
        )
        if missing
        else ()
    )
    verdict = MET if covered == 3 else PARTIAL if covered else NOT_MET
    return _finding(4, verdict, evidence, gaps)


# ---------------------------------------------------------------- checks


def _checks(index: _Index) -> Iterator[Check]:
    for body in index.bodies.values():
        seats = [SeatCount(s.role, s.holder_type, s.count) for s in body.seats]
        for rule in body.composition:
            result = evaluate_rule(rule, seats)
            yield Check(body.key, "composition", rule, result.holds, result.describe())
        decides = any(m.power == "decide" for m in body.mandates)
        if body.decision_rule:
            chair = any(s.role in ("chair", "co_chair") for s in body.seats)
            needs_chair = body.decision_rule in ("consensus_then_chair", "chair_decides")
            holds = chair or not needs_chair
            detail = f"{body.decision_rule}; quorum {body.quorum or 'not stated'}"
            if not holds:
                detail += "; the rule needs a chair but the body has no chair seat"
            yield Check(body.key, "decision", body.decision_rule, holds, detail)
        elif decides and body.seats:
            yield Check(
                body.key,
                "decision",
                "missing",
                False,
                "the body holds a power to decide but has no decision rule",
            )
