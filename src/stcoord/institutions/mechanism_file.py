"""The mechanism file format (YAML): schema, validation with locations, and export.

A file describes one jurisdiction's coordination mechanism. ``docs/mechanism-format.md`` is the
user's guide; the pydantic models below are the authority. Validation reports *every* problem
with its file, line and key path, and never touches the database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from stcoord.analytics.composition import RuleSyntaxError, SeatCount, evaluate_rule, parse_rule
from stcoord.analytics.decisions import parse_quorum
from stcoord.analytics.vocabulary import (
    Affair,
    BodyKind,
    Channel,
    DecisionRuleKind,
    GateKind,
    HolderType,
    Level,
    Power,
    RelationType,
    SeatRole,
)
from stcoord.institutions.yaml_locations import (
    FastParseError,
    LocatedDocument,
    Path,
    Problem,
    YamlSyntaxError,
    format_path,
    load_fast,
    load_located,
)

FORMAT_ID = "stcoord-mechanism/1"
KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"


def _date_to_text(value: Any) -> Any:
    # YAML reads 2001-01-06 as a date; we keep dates as text so "1993" or "2018-06" also fit.
    return value.isoformat() if isinstance(value, dt.date) else value


def _number_to_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=80)]
DateText = Annotated[str | None, BeforeValidator(_date_to_text)]
Text = Annotated[str, BeforeValidator(_number_to_text)]
LocalNames = dict[str, str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=True)


class Sourced(Strict):
    """Every fact carries where it came from; ``unverified`` marks what no source confirmed."""

    sources: list[str] = Field(default_factory=list)
    unverified: bool = False
    note: str | None = None


class JurisdictionSpec(Sourced):
    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9\-]{1,15}$")]
    name: str
    names: LocalNames = Field(default_factory=dict)


class FieldSpec(Sourced):
    key: Key
    name: str
    names: LocalNames = Field(default_factory=dict)
    description: str | None = None
    classification: str | None = None


class SeatSpec(Sourced):
    role: SeatRole
    holder_type: HolderType
    title: str
    names: LocalNames = Field(default_factory=dict)
    count: int = Field(default=1, ge=0)
    holder_body: Key | None = None
    appointed_by: str | None = None
    confirmation: str | None = None
    ex_officio_of: str | None = None
    term_years: float | None = Field(default=None, gt=0)
    rotating_among: list[Key] = Field(default_factory=list)


class CompositionRuleSpec(Sourced):
    rule: str


class DecisionRuleSpec(Sourced):
    rule: DecisionRuleKind
    quorum: Text | None = None
    proxies_allowed: bool | None = None
    written_opinions_allowed: bool | None = None


class MandateSpec(Sourced):
    affair: Affair
    power: Power
    scope: Literal["all"] | list[Key] = "all"
    description: str | None = None
    instrument: str | None = None
    binding: bool = False


class BodySpec(Sourced):
    key: Key
    name: str
    short_name: str | None = None
    names: LocalNames = Field(default_factory=dict)
    kind: BodyKind
    level: Level
    parent: Key | None = None
    legal_basis: str | None = None
    established: DateText = None
    abolished: DateText = None
    description: str | None = None
    seats: list[SeatSpec] = Field(default_factory=list)
    composition: list[CompositionRuleSpec] = Field(default_factory=list)
    decision: DecisionRuleSpec | None = None
    mandates: list[MandateSpec] = Field(default_factory=list)


class RelationSpec(Sourced):
    model_config = ConfigDict(populate_by_name=True)
    from_body: Key = Field(alias="from")
    to_body: Key = Field(alias="to")
    type: RelationType
    description: str | None = None


class GateSpec(Strict):
    kind: GateKind
    body: Key | None = None
    output: str | None = None
    channels: list[Channel] = Field(default_factory=list)
    description: str | None = None


class StageSpec(Sourced):
    key: Key
    name: str
    names: LocalNames = Field(default_factory=dict)
    actor: Key
    participants: list[Key] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    gate: list[GateSpec] = Field(default_factory=list)
    planned: DateText = None


class ProcedureSpec(Sourced):
    key: Key
    name: str
    names: LocalNames = Field(default_factory=dict)
    fields: Literal["all"] | list[Key] = "all"
    legal_basis: str | None = None
    stages: list[StageSpec] = Field(min_length=1)


class MechanismFile(Strict):
    """One jurisdiction's mechanism, as written in a mechanism file."""

    format: Literal["stcoord-mechanism/1"] = "stcoord-mechanism/1"
    jurisdiction: JurisdictionSpec
    fields: list[FieldSpec] = Field(default_factory=list)
    bodies: list[BodySpec] = Field(default_factory=list)
    relations: list[RelationSpec] = Field(default_factory=list)
    procedures: list[ProcedureSpec] = Field(default_factory=list)


class MechanismFileError(ValueError):
    """A mechanism file that cannot be loaded; ``problems`` lists every reason with its place."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in mechanism file:\n{lines}")


def parse_mechanism(text: str, filename: str = "<input>") -> MechanismFile:
    """Parse and validate a mechanism file; raise :class:`MechanismFileError` with all problems.

    A clean file takes the fast path (libyaml, no line bookkeeping); a file with any problem is
    read again with line numbers so every problem names its place.
    """
    try:
        data = load_fast(text)
    except FastParseError:
        data = None
    if isinstance(data, dict):
        try:
            spec = MechanismFile.model_validate(data)
        except ValidationError:
            spec = None
        if spec is not None and not check_consistency(spec):
            return spec
    return _parse_located(text, filename)


def _parse_located(text: str, filename: str) -> MechanismFile:
    try:
        doc = load_located(text)
    except YamlSyntaxError as exc:
        raise MechanismFileError([Problem(filename, exc.line, "", str(exc))]) from None
    problems = [
        Problem(filename, line, format_path(path), "duplicate key in mapping")
        for path, line in doc.duplicate_keys
    ]
    if not isinstance(doc.data, dict):
        problems.append(Problem(filename, 1, "", "a mechanism file must be a YAML mapping"))
        raise MechanismFileError(problems)
    try:
        spec = MechanismFile.model_validate(doc.data)
    except ValidationError as exc:
        problems += [_problem_from_pydantic(err, doc, filename) for err in exc.errors()]
        raise MechanismFileError(problems) from None
    problems += [
        Problem(filename, doc.line_of(path), format_path(path), message)
        for path, message in check_consistency(spec)
    ]
    if problems:
        raise MechanismFileError(problems)
    return spec


def _problem_from_pydantic(err: Any, doc: LocatedDocument, filename: str) -> Problem:
    path: Path = tuple(p for p in err["loc"] if not _is_union_tag(p))
    return Problem(filename, doc.line_of(path), format_path(path), err["msg"])


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the union member's name into loc (e.g. "list[str]"); it is not a YAML key.
    return isinstance(part, str) and ("[" in part or part.startswith("literal"))


def check_consistency(spec: MechanismFile) -> list[tuple[Path, str]]:
    """Cross-reference checks pydantic cannot do: unknown or duplicate keys, cycles, rules."""
    problems: list[tuple[Path, str]] = []
    problems += _duplicates(("fields",), [f.key for f in spec.fields], "field")
    problems += _duplicates(("bodies",), [b.key for b in spec.bodies], "body")
    problems += _duplicates(("procedures",), [p.key for p in spec.procedures], "procedure")
    bodies = {b.key for b in spec.bodies}
    fields = {f.key for f in spec.fields}

    def need_body(path: Path, key: str | None) -> None:
        if key is not None and key not in bodies:
            problems.append((path, f"unknown body {key!r}"))

    def need_fields(path: Path, scope: Any) -> None:
        if isinstance(scope, list):
            for i, key in enumerate(scope):
                if key not in fields:
                    problems.append(((*path, i), f"unknown strategic field {key!r}"))

    for i, body in enumerate(spec.bodies):
        base: Path = ("bodies", i)
        need_body((*base, "parent"), body.parent)
        if body.parent == body.key:
            problems.append(((*base, "parent"), "a body cannot be its own parent"))
        for j, seat in enumerate(body.seats):
            need_body((*base, "seats", j, "holder_body"), seat.holder_body)
            for k, key in enumerate(seat.rotating_among):
                need_body((*base, "seats", j, "rotating_among", k), key)
        for j, mandate in enumerate(body.mandates):
            need_fields((*base, "mandates", j, "scope"), mandate.scope)
        problems += _composition_problems(base, body)
        if body.decision and body.decision.quorum:
            try:
                parse_quorum(body.decision.quorum)
            except RuleSyntaxError as exc:
                problems.append(((*base, "decision", "quorum"), str(exc)))
    for i, rel in enumerate(spec.relations):
        need_body(("relations", i, "from"), rel.from_body)
        need_body(("relations", i, "to"), rel.to_body)
        if rel.from_body == rel.to_body:
            problems.append((("relations", i), "a relation must join two different bodies"))
    for i, proc in enumerate(spec.procedures):
        need_fields(("procedures", i, "fields"), proc.fields)
        problems += _duplicates(("procedures", i, "stages"), [s.key for s in proc.stages], "stage")
        for j, stage in enumerate(proc.stages):
            sbase: Path = ("procedures", i, "stages", j)
            need_body((*sbase, "actor"), stage.actor)
            for k, key in enumerate(stage.participants):
                need_body((*sbase, "participants", k), key)
            for k, gate in enumerate(stage.gate):
                need_body((*sbase, "gate", k, "body"), gate.body)
    problems += _cycles(spec)
    return problems


def _duplicates(path: Path, keys: list[str], what: str) -> list[tuple[Path, str]]:
    seen: Counter[str] = Counter()
    problems = []
    for i, key in enumerate(keys):
        seen[key] += 1
        if seen[key] == 2:
            problems.append(((*path, i, "key"), f"duplicate {what} key {key!r}"))
    return problems


def _composition_problems(base: Path, body: BodySpec) -> list[tuple[Path, str]]:
    seats = [SeatCount(s.role, s.holder_type, s.count) for s in body.seats]
    problems: list[tuple[Path, str]] = []
    for j, rule in enumerate(body.composition):
        path = (*base, "composition", j, "rule")
        try:
            parse_rule(rule.rule)
        except RuleSyntaxError as exc:
            problems.append((path, str(exc)))
            continue
        check = evaluate_rule(rule.rule, seats)
        if not check.holds:
            problems.append((path, f"the seats break this composition rule: {check.describe()}"))
    return problems


def _cycles(spec: MechanismFile) -> list[tuple[Path, str]]:
    """Cycles in the parent tree and in reports_to relations (a body cannot report to itself)."""
    problems: list[tuple[Path, str]] = []
    parent = {b.key: b.parent for b in spec.bodies if b.parent}
    index: dict[str, int] = {}
    for i, b in enumerate(spec.bodies):
        index.setdefault(b.key, i)
    reported: set[str] = set()
    for start in parent:
        seen = [start]
        node = parent.get(start)
        while node is not None and node not in seen:
            seen.append(node)
            node = parent.get(node)
        if node is not None and node == start and not reported & set(seen):
            reported.update(seen)
            loop = " -> ".join([*seen, start])
            problems.append((("bodies", index[start], "parent"), f"cycle in parent: {loop}"))
    edges: dict[str, list[tuple[str, int]]] = {}
    for i, rel in enumerate(spec.relations):
        if rel.type == RelationType.reports_to:
            edges.setdefault(rel.from_body, []).append((rel.to_body, i))
    problems += _reports_to_cycles(edges)
    return problems


def _reports_to_cycles(edges: dict[str, list[tuple[str, int]]]) -> list[tuple[Path, str]]:
    finished: set[str] = set()
    problems: list[tuple[Path, str]] = []

    def visit(stack: list[str]) -> None:
        for target, rel_index in edges.get(stack[-1], []):
            if target in stack:
                loop = " -> ".join([*stack[stack.index(target) :], target])
                problems.append((("relations", rel_index), f"cycle in reports_to: {loop}"))
            elif target not in finished:
                visit([*stack, target])
        finished.add(stack[-1])

    for start in list(edges):
        if start not in finished:
            visit([start])
    return problems


def dump_mechanism(spec: MechanismFile) -> str:
    """Write a mechanism as YAML text that :func:`parse_mechanism` reads back to the same spec."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data = {"format": FORMAT_ID, **data}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
