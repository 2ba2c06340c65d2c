"""Import budget lines from public data and agency files through a mapping file.

A mapping (``stcoord-budget-mapping/1``, described in docs/budget-import.md) says how the rows of
one CSV, XLSX or JSON-lines source become budget lines: which column gives the fiscal year,
agency, program, line key and title; how each phase amount is read (a column or a sum of
columns, scaled, shifted to another fiscal year, kept only when a condition holds); which rows to
keep; how a list inside a JSON record becomes one line per element; and how field shares and
``steered_by`` are derived.

:func:`import_budget` streams the file (``csv`` over a text wrapper, JSON one line at a time,
openpyxl in read-only mode), checks every record with :func:`check_record` and the mapping's own
rules, merges records that land on the same (fiscal year, agency, line key), and writes through
:func:`replace_lines` only when the whole file is clean. Between reading and writing it keeps one
small entry per line (amounts as integer cents), not the rows of the file.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import re
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stcoord.audit.service import record_change
from stcoord.auth.permissions import Actor, require
from stcoord.budget.classifications import (
    get_classification,
    load_classification,
    parse_classification,
)
from stcoord.budget.lines import LineRecord, check_record, replace_lines
from stcoord.budget.models import PHASES, Agency, BudgetLine, Classification
from stcoord.errors import NotFound, ValidationFailed
from stcoord.institutions.yaml_locations import (
    FastParseError,
    YamlSyntaxError,
    format_path,
    load_fast,
    load_located,
)
from stcoord.reference import CLASSIFICATIONS_DIR

MAPPING_FORMAT = "stcoord-budget-mapping/1"
MAPPINGS_DIR = CLASSIFICATIONS_DIR.parent / "budget"
MAX_LISTED = 1000
# Amounts are kept in integer cents that fit 64 bits while the file is read: at most
# 92,233,720,368,547,758.07 per line (budget_line's NUMERIC(20, 2) would take 100 times more).
MAX_CENTS = 2**63 - 1
SOURCE_TYPES = ("csv", "xlsx", "jsonl")
SUFFIX_TYPES = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "ndjson": "jsonl"}

Phase = Literal["request", "estimate", "enacted", "actual"]
Scalar = str | int | float | bool


# ------------------------------------------------------------------------- the mapping format


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_SOURCE_KEYS = ("column", "path", "element", "value")


def _given(model: BaseModel, keys: Iterable[str] = _SOURCE_KEYS) -> list[str]:
    return [k for k in keys if k in model.model_fields_set]


def _column_shorthand(value: Any) -> Any:
    """``title: 事業名`` is short for ``title: {column: 事業名}``."""
    return {"column": value} if isinstance(value, str) else value


def _constant_shorthand(value: Any) -> Any:
    """``currency: JPY`` is short for ``currency: {value: JPY}``."""
    return {"value": value} if isinstance(value, str) else value


def _ref_of(model: BaseModel, optional: bool = False) -> Ref:
    """The ``column``/``path``/``element``/``value`` part of a condition, amount or rule."""
    return Ref.model_validate(
        {k: getattr(model, k) for k in _given(model) if hasattr(model, k)} | {"optional": optional}
    )


def _listify(value: Any) -> Any:
    """A single condition may be written without the list around it."""
    return [value] if isinstance(value, dict) else value


class Ref(_Strict):
    """Where a value comes from: exactly one of ``column`` (a CSV/XLSX header, or a top-level
    key of a JSON record), ``path`` (dotted path into a JSON record), ``element`` (dotted path
    into the element being exploded) or a constant ``value``."""

    column: str | None = None
    path: str | None = None
    element: str | None = None
    value: Scalar | None = None
    optional: bool = False  # a missing column reads as empty instead of being a problem

    @model_validator(mode="after")
    def _one_source(self) -> Ref:
        if len(_given(self)) != 1:
            raise ValueError("give exactly one of column, path, element, value")
        return self


RefS = Annotated[Ref, BeforeValidator(_column_shorthand)]


class Condition(_Strict):
    """A test on one value; a list of conditions holds when all of them hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    column: str | None = None
    path: str | None = None
    element: str | None = None
    empty: bool | None = None
    equals: Scalar | None = None
    not_equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    contains: str | None = None
    less_than: float | int | RefS | None = None

    @model_validator(mode="after")
    def _one_each(self) -> Condition:
        if len(_given(self, ("column", "path", "element"))) != 1:
            raise ValueError("give exactly one of column, path, element")
        ops = ("empty", "equals", "not_equals", "in_", "not_in", "contains", "less_than")
        if len(_given(self, ops)) != 1:
            raise ValueError(
                "give exactly one of empty, equals, not_equals, in, not_in, contains, less_than"
            )
        return self


Conditions = Annotated[list[Condition], BeforeValidator(_listify)]


class Amount(_Strict):
    """One phase amount: a column (or path, element, constant) or the ``sum`` of several."""

    column: str | None = None
    path: str | None = None
    element: str | None = None
    value: Scalar | None = None
    optional: bool = False
    sum: list[RefS] | None = None
    scale: Decimal | None = None  # multiplies the mapping-level scale
    year_offset: int = 0  # the amount belongs to fiscal_year + year_offset
    when: Conditions = Field(default_factory=list)  # read the amount only where these hold
    zero_as_empty: bool = False  # a 0 means "no amount in this phase"

    @model_validator(mode="after")
    def _one_source(self) -> Amount:
        if len(_given(self, (*_SOURCE_KEYS, "sum"))) != 1:
            raise ValueError("give exactly one of column, path, element, value, sum")
        return self


AmountS = Annotated[Amount, BeforeValidator(_column_shorthand)]


class LongPhases(Ref):
    """Long layout: each row carries one phase name and one amount."""

    amount: AmountS
    values: dict[str, Phase] = Field(default_factory=dict)  # spelling in the file -> phase


class ShareList(Ref):
    """Shares derived from a list of labels (a JSON list, or text split by ``separator``)."""

    separator: str = ";"
    lookup: dict[str, str]  # label -> field code of the classification
    default: str | None = None  # field for labels not in the lookup; None ignores them


class Shares(_Strict):
    classification: str | None = None
    unit: Literal["percent", "fraction"] = "percent"
    columns: dict[str, RefS] = Field(default_factory=dict)  # field code -> share column
    prefix: str | None = None  # every header "<prefix><field code>" is a share column
    from_list: ShareList | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Shares:
        fixed = bool(self.columns) or self.prefix is not None
        if fixed == (self.from_list is not None):
            raise ValueError("give share columns (columns and/or prefix) or from_list, not both")
        return self


class SteeredRule(_Strict):
    """Lines matching ``when`` are marked as steered by ``value`` (or by a column's text)."""

    when: Conditions = Field(default_factory=list)
    value: str | None = None
    column: str | None = None
    path: str | None = None
    element: str | None = None
    optional: bool = False

    @model_validator(mode="after")
    def _one_label(self) -> SteeredRule:
        if len(_given(self)) != 1:
            raise ValueError("give exactly one of value, column, path, element")
        return self


class SourceSpec(_Strict):
    type: Literal["csv", "xlsx", "jsonl"] | None = None  # None: from the file name
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    sheet: str | None = None  # XLSX: the first sheet when None


class BudgetMapping(_Strict):
    format: Literal["stcoord-budget-mapping/1"]
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=80)
    name: str
    description: str | None = None
    sources: list[str] = Field(default_factory=list)
    source: SourceSpec = Field(default_factory=SourceSpec)
    jurisdiction: str = Field(min_length=1, max_length=16)
    currency: Annotated[Ref, BeforeValidator(_constant_shorthand)]
    filter: Conditions = Field(default_factory=list)
    explode: str | None = None
    fiscal_year: RefS
    agency: RefS
    agency_name: RefS | None = None
    program: RefS | None = None
    line_key: RefS
    title: RefS | None = None
    phases: dict[Phase, AmountS] = Field(default_factory=dict)
    phase: LongPhases | None = None
    scale: Decimal = Decimal(1)
    shares: Shares | None = None
    steered_by: list[SteeredRule] = Field(default_factory=list)
    merge: Literal["strict", "sum"] = "strict"

    @model_validator(mode="after")
    def _layout(self) -> BudgetMapping:
        if bool(self.phases) == (self.phase is not None):
            raise ValueError("give either phases (one column per phase) or phase (long layout)")
        return self

    def overridden(
        self, *, jurisdiction: str | None = None, currency: str | None = None
    ) -> BudgetMapping:
        """The same mapping for another jurisdiction or currency (e.g. the generic one)."""
        update: dict[str, Any] = {}
        if jurisdiction:
            update["jurisdiction"] = jurisdiction
        if currency:
            update["currency"] = Ref(value=currency)
        return self.model_copy(update=update)


def parse_mapping(text: str, filename: str = "<input>") -> BudgetMapping:
    """Read a mapping file; every problem names its line."""
    try:
        return BudgetMapping.model_validate(load_fast(text))
    except (FastParseError, ValidationError):
        pass
    try:
        doc = load_located(text)
    except YamlSyntaxError as exc:
        raise ValidationFailed([{"path": f"{filename}:{exc.line}", "message": str(exc)}]) from None
    try:
        return BudgetMapping.model_validate(doc.data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                {
                    "path": f"{filename}:{doc.line_of(tuple(e['loc']))}: "
                    f"{format_path(tuple(e['loc']))}",
                    "message": e["msg"],
                }
                for e in exc.errors()
            ]
        ) from None


def _is_mapping_file(path: Path) -> bool:
    with path.open(encoding="utf-8") as handle:
        head = handle.read(400)
    return MAPPING_FORMAT in head


def mapping_files() -> list[Path]:
    """The shipped mapping files, in a stable order."""
    return sorted(p for p in MAPPINGS_DIR.glob("*.yaml") if _is_mapping_file(p))


def shipped_mapping(key: str) -> BudgetMapping:
    """A shipped mapping by its key (``jp-administrative-review-2024``, ``generic``, ...)."""
    for path in mapping_files():
        if path.stem == key:
            return parse_mapping(path.read_text(encoding="utf-8"), path.name)
    known = ", ".join(p.stem for p in mapping_files())
    raise NotFound(f"no shipped budget mapping {key!r} (shipped: {known})")


def ensure_classification(session: Session, actor: Actor, key: str) -> Classification:
    """The classification ``key``; a shipped one (reference/budget or reference/classifications)
    is loaded on first use."""
    try:
        return get_classification(session, key)
    except NotFound:
        for folder in (MAPPINGS_DIR, CLASSIFICATIONS_DIR):
            path = folder / f"{key}.yaml"
            if path.exists():
                spec = parse_classification(path.read_text(encoding="utf-8"), path.name)
                load_classification(session, actor, spec)
                return get_classification(session, key)
        raise


# ------------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class ImportResult:
    source: str
    mapping: str
    rows: int  # data rows read (JSON lines, or spreadsheet rows without the header)
    records: int  # records made from them (after explode and filter, one per year offset)
    skipped: int  # rows (or exploded elements) the filter left out
    merged: int  # records merged into a line another record had started
    lines: int  # lines written (or that would be written)
    totals: dict[str, Decimal]  # per phase, over all lines
    lines_by_year: dict[int, int]
    problems: list[dict[str, Any]]  # as listed (at most MAX_LISTED, then a count of the rest)
    problem_count: int
    written: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "mapping": self.mapping,
            "rows": self.rows,
            "records": self.records,
            "skipped": self.skipped,
            "merged": self.merged,
            "lines": self.lines,
            "totals": {p: str(v) for p, v in self.totals.items()},
            "lines_by_year": {str(y): n for y, n in sorted(self.lines_by_year.items())},
            "problem_count": self.problem_count,
            "problems": self.problems,
            "written": self.written,
        }


def _problem(row: int | None, column: str, message: str) -> dict[str, Any]:
    where = f"row {row}, {column}" if row else column
    return {"row": row, "column": column, "path": where, "message": message}


# ------------------------------------------------------------------------------ cell parsing

_YEAR = re.compile(r"^(?:FY)?\s*(\d{4})(?:\.0+)?$", re.IGNORECASE)
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_HUNDRED = Decimal(100)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _year(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, float) and value.is_integer():
        year = int(value)
    else:
        match = _YEAR.match(_text(value))
        if match is None:
            raise ValueError(f"not a fiscal year: {_text(value)!r}")
        year = int(match.group(1))
    if not 1900 <= year <= 2999:
        raise ValueError(f"not a fiscal year: {year}")
    return year


def _decimal(value: Any) -> Decimal | None:
    """A number from a cell (text with thousands separators, int, float); '' is None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a number: {value!r}")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        number = value
    else:
        text = value.strip() if isinstance(value, str) else str(value).strip()
        if not text:
            return None
        if "," in text:
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {text!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a number: {value!r}")
    return number


def _cents(number: Decimal, scale: Decimal) -> int:
    """Amount in integer cents, rounded half up (budget_line keeps two decimals)."""
    if scale != 1:
        number *= scale
    cents = int((number * _HUNDRED).to_integral_value(ROUND_HALF_UP))
    if abs(cents) >= MAX_CENTS:
        raise ValueError(f"amount {number} is too large (at most 92 quadrillion)")
    return cents


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _walk(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


# ----------------------------------------------------------------------------- reading files

# Getters and tests take one context: a CSV/XLSX row (a list as wide as the header), or a
# (record, exploded element) pair for JSON lines.
Getter = Callable[[Any], Any]
Test = Callable[[Any], bool]


class _Unreadable(Exception):
    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["message"])
        self.problem = problem


def _source_type(mapping: BudgetMapping, filename: str) -> str:
    if mapping.source.type:
        return mapping.source.type
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in SUFFIX_TYPES:
        raise _Unreadable(
            _problem(
                None,
                "file",
                f"{filename}: use a .csv, .xlsx or .jsonl file, "
                "or name the type in the mapping (source.type)",
            )
        )
    return SUFFIX_TYPES[suffix]


def _csv_rows(data: bytes, spec: SourceSpec) -> tuple[list[str], Iterator[tuple[int, Any]]]:
    try:
        text = io.TextIOWrapper(io.BytesIO(data), encoding=spec.encoding, newline="")
    except LookupError:
        raise _Unreadable(
            _problem(None, "source.encoding", f"unknown encoding {spec.encoding!r}")
        ) from None
    reader = csv.reader(text, delimiter=spec.delimiter)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _Unreadable(_problem(1, "", f"cannot read the header: {exc}")) from None
    if header is None:
        raise _Unreadable(_problem(None, "file", "the file is empty"))

    width = len(header)

    def rows() -> Iterator[tuple[int, Any]]:
        number = 1
        for row in reader:
            number += 1
            if any(row):
                if len(row) < width:
                    row.extend([""] * (width - len(row)))
                yield number, row

    return [h.strip() for h in header], rows()


def _xlsx_rows(data: bytes, spec: SourceSpec) -> tuple[list[str], Iterator[tuple[int, Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise _Unreadable(_problem(None, "file", f"not a readable XLSX file ({exc})")) from None
    if spec.sheet is not None and spec.sheet not in book.sheetnames:
        book.close()
        raise _Unreadable(_problem(None, "source.sheet", f"no sheet {spec.sheet!r}"))
    sheet = book[spec.sheet] if spec.sheet is not None else book.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    header = next(cells, None)
    if header is None:
        book.close()
        raise _Unreadable(_problem(None, "file", "the sheet is empty"))

    width = len(header)

    def rows() -> Iterator[tuple[int, Any]]:
        try:
            for number, row in enumerate(cells, start=2):
                if any(v is not None and v != "" for v in row):
                    yield number, [*row, *[None] * (width - len(row))]
        finally:
            book.close()

    return [_text(h) for h in header], rows()


def _jsonl_rows(data: bytes, spec: SourceSpec) -> Iterator[tuple[int, Any]]:
    try:
        lines = io.TextIOWrapper(io.BytesIO(data), encoding=spec.encoding)
    except LookupError:
        raise _Unreadable(
            _problem(None, "source.encoding", f"unknown encoding {spec.encoding!r}")
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _BadRecord(f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield number, _BadRecord("not a JSON object")
            continue
        yield number, record


@dataclass(frozen=True)
class _BadRecord:
    message: str


# ------------------------------------------------------------------------------- the importer

# One entry per line while reading: [packed, title, profile]. ``packed`` holds the first row,
# whether only shifted records (year_offset) have reached the line so far, and the four phase
# amounts in cents (NONE for no amount) in 41 bytes; ``profile`` is an interned tuple of the
# attributes many lines share. About 400 bytes a line in all (measured with 1,000,000 lines).
_PACK = struct.Struct("<qB4q")
NONE = -(2**63)
_ROW, _SHIFTED = 0, 1
_PROGRAM, _AGENCY_NAME, _STEERED, _CURRENCY, _SHARES = range(5)
_DESCRIPTIVE = ((_PROGRAM, "program"), (_AGENCY_NAME, "agency_name"), (_STEERED, "steered_by"))
_NO_SHARES: dict[int, float] = {}  # shared, read-only: replace_lines only iterates it
Profile = tuple[str | None, str | None, str | None, str, tuple[tuple[int, float], ...] | None]


class _CellError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class _ListShares:
    get: Getter
    separator: str
    lookup: dict[str, int]  # label -> field id
    default: int | None


@dataclass
class _Stats:
    rows: int = 0
    records: int = 0
    skipped: int = 0
    merged: int = 0


@dataclass
class _Phase:
    index: int
    name: str
    label: str
    read: Callable[[Any], int | None]  # cents, or None; raises _CellError
    year_offset: int
    when: list[Test]


@dataclass
class _Importer:
    mapping: BudgetMapping
    kind: str
    headers: list[str] | None
    field_ids: dict[str, int]
    problems: list[dict[str, Any]] = field(default_factory=list)
    store: dict[tuple[int, str, str], list[Any]] = field(default_factory=dict)
    stats: _Stats = field(default_factory=_Stats)

    def __post_init__(self) -> None:
        m = self.mapping
        self.strings: dict[str, str] = {}
        self.profiles: dict[Profile, Profile] = {}
        self.years: dict[Any, int] = {}
        self.ints: dict[int, int] = {}
        self.index = {h: i for i, h in reversed(list(enumerate(self.headers or []))) if h}
        self.missing: set[str] = set()
        self.fatal = False  # the file's shape does not fit the mapping: rows are not read
        self.explode = m.explode.split(".") if m.explode else None
        if self.explode and self.kind != "jsonl":
            self.structural(_problem(None, "explode", "explode needs a JSON-lines source"))
        self.filters = [self._test(c, "filter") for c in m.filter]
        self.get_year, self.year_label = self._get(m.fiscal_year, "fiscal_year")
        self.get_agency, self.agency_label = self._text_get(m.agency, "agency")
        self.get_key, self.key_label = self._text_get(m.line_key, "line_key")
        self.get_title = self._text_get(m.title, "title")[0] if m.title else None
        self.get_program = self._text_get(m.program, "program")[0] if m.program else None
        self.get_agency_name = (
            self._text_get(m.agency_name, "agency_name")[0] if m.agency_name else None
        )
        self.get_currency, self.currency_label = self._text_get(m.currency, "currency")
        self.currency: str | None = None  # a constant currency is checked once, here
        if "value" in m.currency.model_fields_set:
            self.currency = _text(m.currency.value).upper()
            if not _CURRENCY_CODE.match(self.currency):
                self.structural(
                    _problem(None, "currency", f"not a currency code: {self.currency!r}")
                )
        self.phases = [self._phase(PHASES.index(p), p, a) for p, a in m.phases.items()]
        self.long: tuple[Getter, str, _Phase, dict[str, int]] | None = None
        if m.phase is not None:
            get_phase, phase_label = self._get(m.phase, "phase")
            amount = self._phase(-1, "amount", m.phase.amount)
            spelled = {k.strip().lower(): PHASES.index(v) for k, v in m.phase.values.items()}
            spelled.update({p: i for i, p in enumerate(PHASES)})
            self.long = (get_phase, phase_label, amount, spelled)
        self.share_columns: list[tuple[int, str, Getter]] = []
        self.share_list: _ListShares | None = None
        self.shares_label = "shares"
        if m.shares is not None:
            self._compile_shares(m.shares)
        self.steered = [
            (
                [self._test(c, "steered_by.when") for c in rule.when],
                rule.value,
                None
                if rule.value is not None
                else self._get(_ref_of(rule, rule.optional), "steered_by")[0],
            )
            for rule in m.steered_by
        ]
        self.labels = {p.name: p.label for p in self.phases}
        if self.long is not None:
            self.labels.update({p: self.long[2].label for p in PHASES})
            self.labels["amounts"] = self.long[2].label
        self.labels.update(
            line_key=self.key_label, agency=self.agency_label, shares=self.shares_label
        )

    def structural(self, problem: dict[str, Any]) -> None:
        self.problems.append(problem)
        self.fatal = True

    # -- compiling the mapping into getters and tests

    def _get(self, ref: Ref, what: str) -> tuple[Getter, str]:
        if "value" in ref.model_fields_set:
            constant = ref.value
            return (lambda c: constant), "(constant)"
        if ref.element is not None:
            keys = ref.element.split(".")
            if not self.explode:
                self.structural(_problem(None, what, "element needs explode"))
            return (lambda c: _walk(c[1], keys)), f"{self.mapping.explode}[].{ref.element}"
        name = ref.column if ref.column is not None else ref.path
        assert name is not None
        if self.kind == "jsonl":
            if ref.column is not None:
                return (lambda c: c[0].get(name)), name
            keys = name.split(".")
            return (lambda c: _walk(c[0], keys)), name
        idx = self.index.get(name)
        if idx is None:
            if not ref.optional and name not in self.missing:
                self.missing.add(name)
                self.structural(_problem(1, name, f"column missing (needed for {what})"))
            return (lambda c: None), name
        return itemgetter(idx), name

    def _index_of(self, ref: Ref, label: str) -> int | None:
        """The column index of a CSV or XLSX reference (None for JSON, constants, elements)."""
        if self.headers is None or ref.element is not None or "value" in ref.model_fields_set:
            return None
        return self.index.get(label)

    def _text_get(self, ref: Ref, what: str) -> tuple[Callable[[Any], str], str]:
        """A getter of stripped text; straight from the row for CSV, whose cells are text."""
        get, label = self._get(ref, what)
        idx = self._index_of(ref, label) if self.kind == "csv" else None
        if idx is not None:
            return (lambda c: c[idx].strip()), label
        return (lambda c: _text(get(c))), label

    def _test(self, cond: Condition, what: str) -> Test:
        get, _ = self._get(_ref_of(cond), what)
        if cond.empty is not None:
            want_empty = cond.empty
            return lambda c: (_text(get(c)) == "") == want_empty
        if cond.equals is not None:
            return _equals(get, cond.equals)
        if cond.not_equals is not None:
            same = _equals(get, cond.not_equals)
            return lambda c: not same(c)
        if cond.in_ is not None:
            tests = [_equals(get, v) for v in cond.in_]
            return lambda c: any(t(c) for t in tests)
        if cond.not_in is not None:
            tests = [_equals(get, v) for v in cond.not_in]
            return lambda c: not any(t(c) for t in tests)
        if cond.contains is not None:
            needle = cond.contains
            return lambda c: needle in _text(get(c))
        bound = cond.less_than
        if isinstance(bound, Ref):
            other, _ = self._get(bound, what)
        else:
            constant = bound
            other = lambda c: constant  # noqa: E731
        return lambda c: _less(get(c), other(c))

    def _phase(self, index: int, name: str, spec: Amount) -> _Phase:
        refs = spec.sum if spec.sum is not None else [_ref_of(spec, spec.optional)]
        parts = [(*self._get(ref, name), ref) for ref in refs]
        scale = self.mapping.scale * (spec.scale if spec.scale is not None else 1)
        readers = [
            _amount_reader(get, label, scale, self._index_of(ref, label))
            for get, label, ref in parts
        ]
        zero_as_empty = spec.zero_as_empty
        if len(readers) == 1:
            only = readers[0]
            read = only
            if zero_as_empty:
                read = lambda c: c if (c := only(c)) != 0 else None  # noqa: E731
        else:
            read = _sum_reader(readers, zero_as_empty)
        return _Phase(
            index=index,
            name=name,
            label="+".join(label for _, label, _ in parts),
            read=read,
            year_offset=spec.year_offset,
            when=[self._test(c, f"phases.{name}.when") for c in spec.when],
        )

    def _compile_shares(self, spec: Shares) -> None:
        def field_id(code: str, row: int | None, column: str) -> int | None:
            if not self.field_ids:
                self.problems.append(
                    _problem(row, column, "field shares need a classification (none was given)")
                )
                return None
            if code not in self.field_ids:
                self.problems.append(_problem(row, column, f"unknown field code {code!r}"))
                return None
            return self.field_ids[code]

        if spec.from_list is not None:
            get, label = self._get(spec.from_list, "shares")
            lookup = {k.strip(): v for k, v in spec.from_list.lookup.items()}
            ids = {}
            for code in dict.fromkeys(lookup.values()):
                fid = field_id(code, None, "shares.from_list.lookup")
                if fid is not None:
                    ids[code] = fid
            default = None
            if spec.from_list.default is not None:
                default = field_id(spec.from_list.default, None, "shares.from_list.default")
            self.share_list = _ListShares(
                get,
                spec.from_list.separator,
                {k: ids[v] for k, v in lookup.items() if v in ids},
                default,
            )
            self.shares_label = label
            return
        self.share_unit = 100.0 if spec.unit == "percent" else 1.0
        for code, ref in spec.columns.items():
            getter, label = self._get(ref, f"shares.{code}")
            fid = field_id(code, None, f"shares.columns.{code}")
            if fid is not None:
                self.share_columns.append((fid, label, getter))
        if spec.prefix is not None:
            if self.headers is None:
                self.structural(
                    _problem(None, "shares.prefix", "prefix works with CSV and XLSX headers")
                )
            for i, header in enumerate(self.headers or []):
                if header.startswith(spec.prefix) and i == self.index.get(header):
                    fid = field_id(header[len(spec.prefix) :], 1, header)
                    if fid is not None:
                        self.share_columns.append((fid, header, itemgetter(i)))
        self.shares_label = ", ".join(label for _, label, _ in self.share_columns) or "shares"

    # -- reading

    def intern(self, text: str) -> str:
        return self.strings.setdefault(text, text)

    def feed(self, rows: Iterator[tuple[int, Any]]) -> None:
        explode, filters, stats = self.explode, self.filters, self.stats
        for number, record in rows:
            stats.rows += 1
            if isinstance(record, _BadRecord):
                self.problems.append(_problem(number, "", record.message))
                continue
            if explode is None:
                context = record if self.headers is not None else (record, None)
                if filters and not all(test(context) for test in filters):
                    stats.skipped += 1
                    continue
                self.row(number, context)
                continue
            found = _walk(record, explode)
            if found is None:
                continue
            if not isinstance(found, list):
                self.problems.append(_problem(number, ".".join(explode), "not a list"))
                continue
            for element in found:
                context = (record, element)
                if filters and not all(test(context) for test in filters):
                    stats.skipped += 1
                    continue
                self.row(number, context)

    def year_of(self, raw: Any) -> int | None:
        try:
            return self.years[raw]
        except (KeyError, TypeError):
            year = _year(raw)  # raises ValueError
            if year is not None and len(self.years) < 1000:
                with contextlib.suppress(TypeError):
                    self.years[raw] = year
            return year

    def row(self, n: int, c: Any) -> None:
        problems = self.problems
        before = len(problems)
        try:
            year = self.year_of(self.get_year(c))
            if year is None:
                problems.append(_problem(n, self.year_label, "is required"))
        except ValueError as exc:
            year = None
            problems.append(_problem(n, self.year_label, str(exc)))
        agency = self.intern(self.get_agency(c))
        line_key = self.get_key(c)
        if len(line_key) > 120:
            problems.append(_problem(n, self.key_label, "longer than 120 characters"))
        title = (self.get_title(c) if self.get_title else "") or line_key
        program = self.intern(self.get_program(c)) if self.get_program else ""
        agency_name = self.intern(self.get_agency_name(c)) if self.get_agency_name else ""
        currency = self.currency
        if currency is None:
            currency = self.intern(self.get_currency(c).upper())
            if not _CURRENCY_CODE.match(currency):
                problems.append(
                    _problem(n, self.currency_label, f"not a currency code: {currency!r}")
                )
        shares = self.read_shares(n, c)
        steered = self.read_steered(c)
        unread = len(problems)
        by_offset = self.read_amounts(n, c)
        unread = len(problems) - unread  # amount cells that could not be read
        labels = self.labels
        for offset, cents in by_offset.items():
            record = LineRecord(
                fiscal_year=(year or 0) + offset,
                agency=agency,
                line_key=line_key,
                title=title,
                currency=currency,
                amounts={PHASES[i]: None if v is None else _money(v) for i, v in enumerate(cents)},
                program=program or None,
                shares=shares or _NO_SHARES,
                steered_by=steered,
                agency_name=agency_name or None,
            )
            for column, message in check_record(record):
                if column == "amounts" and unread:
                    continue  # already reported: the amount is there but unreadable
                problems.append(_problem(n, labels.get(column, column), message))
        self.stats.records += len(by_offset)
        if len(problems) > before or year is None:
            return
        profile: Profile = (
            program or None,
            agency_name or None,
            steered,
            currency,
            tuple(shares.items()) if shares else None,
        )
        profile = self.profiles.setdefault(profile, profile)
        for offset, cents in by_offset.items():
            key = (self.ints.setdefault(year + offset, year + offset), agency, line_key)
            self.merge(n, key, offset != 0, cents, title, profile)

    def read_amounts(self, n: int, c: Any) -> dict[int, list[int | None]]:
        own: list[int | None] = [None, None, None, None]
        by_offset: dict[int, list[int | None]] = {0: own}
        if self.long is not None:
            get_phase, phase_label, amount, spelled = self.long
            name = _text(get_phase(c))
            index = spelled.get(name.lower())
            if index is None:
                self.problems.append(
                    _problem(n, phase_label, f"unknown phase {name!r}; use {', '.join(PHASES)}")
                )
                return by_offset
            if amount.when and not all(test(c) for test in amount.when):
                return by_offset
            try:
                cents = amount.read(c)
            except _CellError as exc:
                self.problems.append(_problem(n, exc.column, str(exc)))
                return by_offset
            if amount.year_offset and cents is not None:
                by_offset = {amount.year_offset: [None, None, None, None]}
            by_offset[amount.year_offset][index] = cents
            return by_offset
        for phase in self.phases:
            if phase.when and not all(test(c) for test in phase.when):
                continue
            try:
                cents = phase.read(c)
            except _CellError as exc:
                self.problems.append(_problem(n, exc.column, str(exc)))
                continue
            if cents is None:
                continue
            if phase.year_offset == 0:
                own[phase.index] = cents
                continue
            slot = by_offset.get(phase.year_offset)
            if slot is None:
                slot = by_offset[phase.year_offset] = [None, None, None, None]
            slot[phase.index] = cents
        if len(by_offset) > 1 and own == [None, None, None, None]:
            del by_offset[0]  # only shifted amounts: this row says nothing about its own year
        return by_offset

    def read_shares(self, n: int, c: Any) -> dict[int, float] | None:
        if self.share_list is not None:
            spec = self.share_list
            raw = spec.get(c)
            labels = raw if isinstance(raw, list) else _text(raw).split(spec.separator)
            fields: dict[int, None] = {}
            for label in labels:
                text = _text(label)
                fid = spec.lookup.get(text, spec.default) if text else None
                if fid is not None:
                    fields[fid] = None
            if not fields:
                return None
            share = 1.0 / len(fields)
            return dict.fromkeys(fields, share)
        if not self.share_columns:
            return None
        shares: dict[int, float] = {}
        for fid, label, get in self.share_columns:
            raw = get(c)
            if raw is None or raw == "":
                continue
            text = _text(raw)
            if not text:
                continue
            try:
                value = float(text.rstrip("%"))
                if not math.isfinite(value):
                    raise ValueError
            except ValueError:
                self.problems.append(_problem(n, label, f"not a share: {text!r}"))
                continue
            if value:
                shares[fid] = shares.get(fid, 0.0) + value / self.share_unit
        return shares or None

    def read_steered(self, c: Any) -> str | None:
        for tests, value, get in self.steered:
            if all(test(c) for test in tests):
                label = value if value is not None else _text(get(c)) if get else ""
                if label:
                    return self.intern(label[:200])
        return None

    # -- merging records onto lines

    def merge(
        self,
        n: int,
        key: tuple[int, str, str],
        shifted: bool,
        cents: list[int | None],
        title: str,
        profile: Profile,
    ) -> None:
        entry = self.store.get(key)
        if entry is None:
            packed = [NONE if c is None else c for c in cents]
            self.store[key] = [_PACK.pack(n, shifted, *packed), title, profile]
            return
        self.stats.merged += 1
        first, only_shifted, *amounts = _PACK.unpack(entry[0])
        old: Profile = entry[2]
        at = f"given for this line at row {first}"
        conflict = self.problems.append
        if profile[_CURRENCY] != old[_CURRENCY]:
            conflict(
                _problem(
                    n,
                    self.currency_label,
                    f"currency {profile[_CURRENCY]} differs from {old[_CURRENCY]} {at}",
                )
            )
        if not shifted:
            if only_shifted:  # the line's own row describes it, not a row of another year
                entry[1], entry[2], only_shifted = title, profile, False
            else:
                if profile[_SHARES] != old[_SHARES]:
                    conflict(_problem(n, self.shares_label, f"field shares differ from those {at}"))
                if self.mapping.merge == "strict":
                    if title != entry[1]:
                        conflict(_problem(n, "title", f"{title!r} differs from {entry[1]!r} {at}"))
                    for slot, name in _DESCRIPTIVE:
                        if profile[slot] != old[slot]:
                            conflict(
                                _problem(
                                    n, name, f"{profile[slot]!r} differs from {old[slot]!r} {at}"
                                )
                            )
        for i, new in enumerate(cents):
            if new is None:
                continue
            previous = amounts[i]
            if previous == NONE:
                amounts[i] = new
            elif self.mapping.merge == "sum":
                amounts[i] = previous + new
                if not -MAX_CENTS < amounts[i] < MAX_CENTS:
                    conflict(
                        _problem(
                            n,
                            self.labels.get(PHASES[i], PHASES[i]),
                            "the merged amount is too large",
                        )
                    )
                    amounts[i] = previous
            elif previous != new:
                conflict(
                    _problem(
                        n,
                        self.labels.get(PHASES[i], PHASES[i]),
                        (
                            f"duplicate line {key[0]}/{key[1]}/{key[2]}: {PHASES[i]} {_money(new)} "
                            f"conflicts with {_money(previous)} {at} (merge: strict)"
                        ),
                    )
                )
        entry[0] = _PACK.pack(first, only_shifted, *amounts)

    # -- after reading

    def check_other_sources(self, session: Session, source: str) -> None:
        """Lines of other sources on the same (year, agency, line key) would break the table's
        unique key: report them instead."""
        stmt = (
            select(BudgetLine.fiscal_year, Agency.code, BudgetLine.line_key, BudgetLine.source)
            .join(Agency, Agency.id == BudgetLine.agency_id)
            .where(
                BudgetLine.jurisdiction_code == self.mapping.jurisdiction,
                (BudgetLine.source != source) | BudgetLine.source.is_(None),
            )
            .execution_options(yield_per=10_000)
        )
        store = self.store
        for year, agency, line_key, other in session.execute(stmt):
            entry = store.get((year, agency, line_key))
            if entry is not None:
                row = _PACK.unpack(entry[0])[_ROW]
                self.problems.append(
                    _problem(
                        row,
                        self.key_label,
                        (f"line {year}/{agency}/{line_key} already exists from source {other!r}"),
                    )
                )

    def totals(self) -> tuple[dict[str, Decimal], dict[int, int]]:
        sums = [0, 0, 0, 0]
        years: dict[int, int] = {}
        unpack = _PACK.unpack
        for (year, _, _), entry in self.store.items():
            years[year] = years.get(year, 0) + 1
            _, _, *amounts = unpack(entry[0])
            for i, cents in enumerate(amounts):
                if cents != NONE:
                    sums[i] += cents
        return {p: _money(sums[i]) for i, p in enumerate(PHASES)}, years

    def emit(self) -> Iterator[LineRecord]:
        """The lines, handing each entry over as it goes.

        Lines come grouped by which of their columns are empty (program, steered_by, each
        phase), in file order within a group: the ORM bulk insert under replace_lines leaves
        NULL columns out of a row and runs one statement per run of rows with the same columns,
        so interleaved patterns cost a statement (and a re-splice of RETURNING rows) per run.
        """
        store, unpack = self.store, _PACK.unpack
        groups: dict[tuple[bool, ...], list[tuple[int, str, str]]] = {}
        for key, entry in store.items():
            _, _, *amounts = unpack(entry[0])
            profile = entry[2]
            pattern = (
                profile[_PROGRAM] is None,
                profile[_STEERED] is None,
                *(c == NONE for c in amounts),
            )
            groups.setdefault(pattern, []).append(key)
        for keys in groups.values():
            for key in keys:
                packed, title, profile = store.pop(key)
                _, _, *amounts = unpack(packed)
                yield LineRecord(
                    fiscal_year=key[0],
                    agency=key[1],
                    line_key=key[2],
                    title=title,
                    currency=profile[_CURRENCY],
                    amounts={
                        p: _money(c) for p, c in zip(PHASES, amounts, strict=True) if c != NONE
                    },
                    program=profile[_PROGRAM],
                    shares=dict(profile[_SHARES]) if profile[_SHARES] else _NO_SHARES,
                    steered_by=profile[_STEERED],
                    agency_name=profile[_AGENCY_NAME],
                )
            keys.clear()


def _amount_reader(
    get: Getter, label: str, scale: Decimal, index: int | None
) -> Callable[[Any], int | None]:
    """Read one cell as cents. Unsigned decimal text with at most two decimals (the common
    case) is converted with string methods; anything else goes through Decimal."""
    plain = scale == 1

    def slow(raw: Any) -> int | None:
        try:
            number = _decimal(raw)
            return None if number is None else _cents(number, scale)
        except ValueError as exc:
            raise _CellError(label, str(exc)) from None

    def convert(raw: Any) -> int | None:
        if plain and type(raw) is str:
            whole, _, fraction = raw.partition(".")
            if whole.isdecimal() and len(whole) <= 16:
                if not fraction:
                    return int(whole) * 100
                if len(fraction) <= 2 and fraction.isdecimal():
                    return int(whole) * 100 + int(fraction) * (10 if len(fraction) == 1 else 1)
            elif not raw:
                return None
        return None if raw is None else slow(raw)

    if index is not None:
        return lambda c: convert(c[index])
    return lambda c: convert(get(c))


def _sum_reader(
    readers: list[Callable[[Any], int | None]], zero_as_empty: bool
) -> Callable[[Any], int | None]:
    """The sum of several cells; empty cells count as nothing, all empty is no amount."""

    def read(c: Any) -> int | None:
        total: int | None = None
        error: _CellError | None = None
        for reader in readers:
            try:
                cents = reader(c)
            except _CellError as exc:
                error = error or exc
                continue
            if cents is not None:
                total = cents if total is None else total + cents
        if error is not None:
            raise error
        if total is not None and not -MAX_CENTS < total < MAX_CENTS:
            raise _CellError("+", "the sum is too large")
        return None if (total == 0 and zero_as_empty) else total

    return read


def _equals(get: Getter, constant: Scalar) -> Test:
    if isinstance(constant, int | float) and not isinstance(constant, bool):
        number = Decimal(repr(constant)) if isinstance(constant, float) else Decimal(constant)

        def numeric(c: Any) -> bool:
            try:
                value = _decimal(get(c))
            except ValueError:
                return False
            return value is not None and value == number

        return numeric
    text = _text(constant)
    return lambda c: _text(get(c)) == text


def _less(a: Any, b: Any) -> bool:
    try:
        x, y = _decimal(a), _decimal(b)
    except ValueError:
        return False
    return x is not None and y is not None and x < y


# ------------------------------------------------------------------------------ the service


def import_budget(
    session: Session,
    actor: Actor,
    *,
    mapping: BudgetMapping,
    data: bytes,
    filename: str,
    source: str,
    classification_key: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Read ``data`` through ``mapping`` and replace every line of ``source`` with it.

    Every row is checked; when anything is wrong nothing is written and
    :class:`ValidationFailed` lists every problem with its row and column (the first
    ``MAX_LISTED``, then how many more). ``dry_run`` checks without writing and returns the
    problems instead of raising. One audit record per import.
    """
    require(actor, "budget.manage")
    if not source or len(source) > 200:
        raise ValidationFailed([("source", "give a source key of 1 to 200 characters")])
    if not dry_run:
        return _import(session, actor, mapping, data, filename, source, classification_key, False)
    savepoint = session.begin_nested()  # a dry run may load a shipped classification: undo it
    try:
        return _import(session, actor, mapping, data, filename, source, classification_key, True)
    finally:
        savepoint.rollback()


def _import(
    session: Session,
    actor: Actor,
    mapping: BudgetMapping,
    data: bytes,
    filename: str,
    source: str,
    classification_key: str | None,
    dry_run: bool,
) -> ImportResult:
    classification: Classification | None = None
    wanted = classification_key or (mapping.shares.classification if mapping.shares else None)
    setup: list[dict[str, Any]] = []
    if wanted:
        classification = ensure_classification(session, actor, wanted)
        if classification.jurisdiction_code != mapping.jurisdiction:
            setup.append(
                _problem(
                    None,
                    "classification",
                    (
                        f"classification {wanted!r} is for {classification.jurisdiction_code}, "
                        f"the mapping for {mapping.jurisdiction}"
                    ),
                )
            )
    field_ids = {f.key: f.id for f in classification.fields} if classification else {}

    try:
        kind = _source_type(mapping, filename)
        headers: list[str] | None = None
        if kind == "csv":
            headers, rows = _csv_rows(data, mapping.source)
        elif kind == "xlsx":
            headers, rows = _xlsx_rows(data, mapping.source)
        else:
            rows = _jsonl_rows(data, mapping.source)
    except _Unreadable as exc:
        return _finish(
            session,
            actor,
            mapping,
            source,
            filename,
            data,
            None,
            [*setup, exc.problem],
            dry_run,
            classification,
        )
    importer = _Importer(mapping, kind, headers, field_ids)
    importer.problems[:0] = setup
    if not (setup or importer.fatal):  # a missing column would fail every row: say it once
        try:
            importer.feed(rows)
        except (UnicodeDecodeError, csv.Error) as exc:
            importer.problems.append(
                _problem(
                    importer.stats.rows + 2,
                    "",
                    f"cannot read the file as {kind} ({mapping.source.encoding}): {exc}",
                )
            )
    if not importer.problems:
        importer.check_other_sources(session, source)
    return _finish(
        session,
        actor,
        mapping,
        source,
        filename,
        data,
        importer,
        importer.problems,
        dry_run,
        classification,
    )


def _finish(
    session: Session,
    actor: Actor,
    mapping: BudgetMapping,
    source: str,
    filename: str,
    data: bytes,
    importer: _Importer | None,
    problems: list[dict[str, Any]],
    dry_run: bool,
    classification: Classification | None,
) -> ImportResult:
    listed = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        listed.append(_problem(None, "", f"... and {len(problems) - MAX_LISTED} more problems"))
    stats = importer.stats if importer else _Stats()
    totals, years = importer.totals() if importer else ({p: Decimal("0.00") for p in PHASES}, {})
    lines = sum(years.values())
    if problems and not dry_run:
        raise ValidationFailed(listed)
    result = ImportResult(
        source=source,
        mapping=mapping.key,
        rows=stats.rows,
        records=stats.records,
        skipped=stats.skipped,
        merged=stats.merged,
        lines=lines,
        totals=totals,
        lines_by_year=years,
        problems=listed,
        problem_count=len(problems),
        written=False,
    )
    if dry_run or importer is None:
        return result
    before = session.scalar(
        select(func.count(BudgetLine.id)).where(
            BudgetLine.jurisdiction_code == mapping.jurisdiction, BudgetLine.source == source
        )
    )
    written = replace_lines(
        session,
        jurisdiction=mapping.jurisdiction,
        source=source,
        records=importer.emit(),
        classification_id=classification.id if classification else None,
    )
    record_change(
        session,
        actor,
        action="budget.import",
        object_type="budget_source",
        object_key=source,
        before={"lines": before},
        after={
            "lines": written,
            "rows": stats.rows,
            "records": stats.records,
            "skipped": stats.skipped,
            "merged": stats.merged,
            "totals": {p: str(v) for p, v in totals.items()},
            "lines_by_year": {str(y): n for y, n in sorted(years.items())},
            "mapping": mapping.key,
            "classification": classification.key if classification else None,
            "file": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        summary=f"imported {written} budget lines from {filename}",
    )
    return ImportResult(**{**result.__dict__, "lines": written, "written": True})
