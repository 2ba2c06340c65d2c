"""Mapping files that say how the records of a JSONL, CSV or XLSX file become projects.

A mapping (``stcoord-portfolio-mapping/1``, described in docs/portfolio.md) names, for each project
attribute, where its value comes from: a *path* into the record (``program_elements.0.code``;
``*`` maps over a list, ``[x=$fiscal_year]`` keeps the list elements whose ``x`` equals the
record's ``fiscal_year``), a list of paths (the first non-empty wins) or a constant ``value``; with
optional ``date_format``, ``split`` (text into a list), ``lookup`` (spelling -> code) and
``strip``. Investigators come from a list of objects (NSF) or from parallel ``;``-separated ID and
name columns (NIH). Shipped mappings live in ``reference/portfolio/``; :func:`detect_mapping`
picks one from the keys of a file's first record, so the NSF, NIH and program-inventory files
import as they are.

:func:`read_records` streams a file (JSON one line at a time, ``csv`` over a text wrapper,
openpyxl read-only) and yields each record's :class:`ProjectRecord` or its problems with row and
field; it touches no database, so ``stcoord portfolio screen FILE`` uses it directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stcoord.errors import NotFound, ValidationFailed

MAPPING_FORMAT = "stcoord-portfolio-mapping/1"
MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "reference" / "portfolio"
SUFFIX_TYPES = {"csv": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "ndjson": "jsonl"}


class ValueSpec(BaseModel):
    """Where one value comes from."""

    model_config = ConfigDict(extra="forbid")
    path: str | list[str] | None = None
    value: str | int | float | None = None
    date_format: str | None = None
    split: str | None = None
    lookup: dict[str, str] = Field(default_factory=dict)
    strip: list[str] = Field(default_factory=list)  # substrings removed (e.g. "(contact)")

    def paths(self) -> list[str]:
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)


def _spec(value: Any) -> Any:
    return {"path": value} if isinstance(value, str | list) else value


class InvestigatorSpec(BaseModel):
    """Investigators: a list of objects at ``list`` (with ``first``/``last`` or ``name``,
    ``role``, ``id`` inside each), or parallel columns ``ids``/``names`` split by ``split``."""

    model_config = ConfigDict(extra="forbid")
    list_: str | None = Field(default=None, alias="list")
    first: str | None = None
    last: str | None = None
    name: str | None = None
    role: str | None = None
    id: str | None = None
    ids: str | None = None
    names: str | None = None
    split: str = ";"
    name_order: str = "first_last"  # or last_first ("WATSON, DONALD A")
    contact_marker: str | None = None  # in NIH files "(contact)" marks the contact PI
    id_scheme: str | None = None
    default_role: str = "Principal Investigator"


class FieldsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: ValueSpec
    title: ValueSpec
    abstract: ValueSpec | None = None
    agency: ValueSpec
    agency_name: ValueSpec | None = None
    program: ValueSpec | None = None
    program_name: ValueSpec | None = None
    institution: ValueSpec | None = None
    amount: ValueSpec | None = None
    currency: ValueSpec | None = None
    start_date: ValueSpec | None = None
    end_date: ValueSpec | None = None
    field_codes: ValueSpec | None = None
    language: ValueSpec | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _short(cls, value: Any) -> Any:
        return _spec(value)


class PortfolioMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    format: str
    key: str
    name: str = ""
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    source: str  # stored on every project; (source, external_id) identifies a project
    jurisdiction: str
    currency: str = "USD"
    language: str = "en"
    kind: str = "award"
    file_type: str | None = None  # csv | xlsx | jsonl; else from the file name
    detect: list[str] = Field(default_factory=list)  # keys of a record that identify this shape
    # error: a repeated external ID is a bad row; first: keep the first row of each ID (files
    # with one row per project and year or per related project)
    duplicates: Literal["error", "first"] = "error"
    fields: FieldsSpec
    investigators: InvestigatorSpec | None = None

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value != MAPPING_FORMAT:
            raise ValueError(f"use format: {MAPPING_FORMAT}")
        return value


def parse_mapping(text: str, filename: str = "<mapping>") -> PortfolioMapping:
    """Read a mapping file; every problem is reported with its path in the file."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed([(filename, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ValidationFailed([(filename, "a mapping file is a YAML mapping")])
    try:
        return PortfolioMapping.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [(f"{filename}: " + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        ) from None


def shipped_mappings() -> dict[str, PortfolioMapping]:
    return {
        m.key: m
        for m in (
            parse_mapping(p.read_text(encoding="utf-8"), p.name)
            for p in sorted(MAPPINGS_DIR.glob("*.yaml"))
        )
    }


def get_mapping(key_or_path: str) -> PortfolioMapping:
    """A shipped mapping by key, or a mapping file by path."""
    shipped = shipped_mappings()
    if key_or_path in shipped:
        return shipped[key_or_path]
    path = Path(key_or_path)
    if path.is_file():
        return parse_mapping(path.read_text(encoding="utf-8"), path.name)
    raise NotFound(f"no mapping {key_or_path!r}; shipped: {', '.join(sorted(shipped))}")


def detect_mapping(keys: set[str]) -> PortfolioMapping | None:
    """The shipped mapping whose ``detect`` keys all appear in a record's keys (most specific)."""
    matches = [m for m in shipped_mappings().values() if m.detect and set(m.detect) <= keys]
    return max(matches, key=lambda m: len(m.detect)) if matches else None


# ------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class InvestigatorRecord:
    name: str
    first: str
    last: str
    role: str
    id_scheme: str | None = None
    person_id: str | None = None


@dataclass(frozen=True)
class ProjectRecord:
    row: int
    source: str
    external_id: str
    kind: str
    title: str
    abstract: str
    agency_code: str
    agency_name: str
    program_code: str | None
    program_name: str | None
    institution: str | None
    amount: Decimal | None
    currency: str
    start_date: dt.date | None
    end_date: dt.date | None
    field_codes: list[str]
    language: str
    investigators: list[InvestigatorRecord] = field(default_factory=list)

    @property
    def text(self) -> str:
        return project_text(self.title, self.abstract)


def project_text(title: str, abstract: str) -> str:
    """The text a screen compares: title and abstract (the same in the file and stored paths)."""
    return f"{title}\n\n{abstract}".strip()


def _problem(row: int | None, column: str, message: str) -> dict[str, Any]:
    where = f"row {row}, {column}" if row else column
    return {"row": row, "column": column, "path": where, "message": message}


_FILTER = re.compile(r"^\[(?P<key>[^=\]]+)=(?P<value>[^\]]*)\]$")


def _walk(value: Any, parts: list[str], record: dict[str, Any]) -> Any:
    for n, part in enumerate(parts):
        if value is None:
            return None
        if part == "*":
            if not isinstance(value, list):
                return None
            out: list[Any] = []
            for item in value:
                got = _walk(item, parts[n + 1 :], record)
                if isinstance(got, list):
                    out.extend(got)
                elif got not in (None, ""):
                    out.append(got)
            return out
        match = _FILTER.match(part)
        if match:
            if not isinstance(value, list):
                return None
            wanted = match["value"]
            if wanted.startswith("$"):
                wanted = str(record.get(wanted[1:], ""))
            value = [v for v in value if isinstance(v, dict) and str(v.get(match["key"])) == wanted]
            value = value[0] if value else None
            continue
        if isinstance(value, list):
            if not part.lstrip("-").isdigit():
                return None
            index = int(part)
            value = value[index] if -len(value) <= index < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _split_path(path: str) -> list[str]:
    # a[x=1].b -> ["a", "[x=1]", "b"]; keys with dashes ("sub-agency") stay whole
    parts: list[str] = []
    for piece in path.split("."):
        while "[" in piece and not piece.startswith("["):
            head, _, rest = piece.partition("[")
            parts.append(head)
            piece = "[" + rest
        parts.append(piece)
    return [p for p in parts if p]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Reader:
    """Reads values out of one record by a mapping's specs."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def raw(self, spec: ValueSpec | None) -> Any:
        if spec is None:
            return None
        if spec.value is not None:
            return spec.value
        for path in spec.paths():
            got = (
                self.record.get(path)
                if path in self.record
                else _walk(self.record, _split_path(path), self.record)
            )
            if got not in (None, "", []):
                return got
        return None

    def text(self, spec: ValueSpec | None) -> str:
        value = self.raw(spec)
        if isinstance(value, list):
            value = "; ".join(_text(v) for v in value)
        text = _text(value)
        if spec is not None:
            for piece in spec.strip:
                text = text.replace(piece, "").strip()
            text = spec.lookup.get(text, text)
        return text

    def texts(self, spec: ValueSpec | None) -> list[str]:
        value = self.raw(spec)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            text = _text(item)
            pieces = text.split(spec.split) if spec is not None and spec.split else [text]
            out.extend(p.strip() for p in pieces if p.strip())
        return out


def _date(text: str, fmt: str | None) -> dt.date:
    if fmt:
        return dt.datetime.strptime(text, fmt).date()
    return dt.date.fromisoformat(text[:10])


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise InvalidOperation
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = _text(value).replace(",", "").lstrip("$")
    number = Decimal(text)
    if not number.is_finite():
        raise InvalidOperation
    return number


_SPACES = re.compile(r"\s+")


def _split_name(name: str, order: str) -> tuple[str, str]:
    name = _SPACES.sub(" ", name).strip()
    if "," in name and order == "last_first":
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    if "," in name:
        last, _, first = name.partition(",")
        return first.strip(), last.strip()
    bits = name.split(" ")
    return " ".join(bits[:-1]), bits[-1]


def _investigators(
    reader: _Reader, spec: InvestigatorSpec, row: int, scheme: str
) -> list[InvestigatorRecord]:
    out: list[InvestigatorRecord] = []
    if spec.list_:
        items = _walk(reader.record, _split_path(spec.list_), reader.record) or []
        if not isinstance(items, list):
            raise ValueError(f"{spec.list_} is not a list")
        for item in items:
            if not isinstance(item, dict):
                continue
            first = _text(item.get(spec.first)) if spec.first else ""
            last = _text(item.get(spec.last)) if spec.last else ""
            name = _text(item.get(spec.name)) if spec.name else f"{first} {last}".strip()
            if spec.name and not (first or last):
                first, last = _split_name(name, spec.name_order)
            if not name:
                continue
            person = _text(item.get(spec.id)) if spec.id else ""
            role = _text(item.get(spec.role)) if spec.role else spec.default_role
            out.append(
                InvestigatorRecord(
                    name,
                    first,
                    last,
                    role or spec.default_role,
                    scheme if person else None,
                    person or None,
                )
            )
        return out
    names = [n for n in _text(reader.record.get(spec.names or "")).split(spec.split)]
    ids = (
        [i for i in _text(reader.record.get(spec.ids or "")).split(spec.split)] if spec.ids else []
    )
    names = [n for n in names if n.strip()]
    ids = [i for i in ids if i.strip()]
    if ids and len(ids) != len(names):
        raise ValueError(f"{len(ids)} investigator IDs but {len(names)} names")
    for n, raw_name in enumerate(names):
        role = spec.default_role
        name = raw_name.strip()
        person = ids[n].strip() if ids else ""
        if spec.contact_marker and spec.contact_marker in name:
            name = name.replace(spec.contact_marker, "").strip()
            role = "Contact PI"
        if spec.contact_marker:
            person = person.replace(spec.contact_marker, "").strip()
        first, last = _split_name(name, spec.name_order)
        display = f"{first} {last}".strip()
        out.append(
            InvestigatorRecord(
                display, first, last, role, scheme if person else None, person or None
            )
        )
    return out


def to_record(
    mapping: PortfolioMapping, record: dict[str, Any], row: int, source: str
) -> tuple[ProjectRecord | None, list[dict[str, Any]]]:
    """One file record as a project, or the problems that keep it out (each with row and field)."""
    spec = mapping.fields
    reader = _Reader(record)
    problems: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    for name in ("external_id", "title", "agency"):
        text = reader.text(getattr(spec, name))
        if not text:
            where = "/".join(getattr(spec, name).paths()) or name
            problems.append(_problem(row, where, f"{name} is empty"))
        values[name] = text
    if len(values["external_id"]) > 120:
        problems.append(_problem(row, "external_id", "longer than 120 characters"))
    amount: Decimal | None = None
    raw_amount = reader.raw(spec.amount)
    if raw_amount not in (None, ""):
        try:
            amount = _amount(raw_amount)
        except (InvalidOperation, ValueError):
            where = "/".join(spec.amount.paths()) if spec.amount else "amount"
            problems.append(_problem(row, where, f"not an amount: {raw_amount!r}"))
    dates: dict[str, dt.date | None] = {}
    for name in ("start_date", "end_date"):
        date_spec = getattr(spec, name)
        text = reader.text(date_spec)
        dates[name] = None
        if text:
            try:
                dates[name] = _date(text, date_spec.date_format)
            except ValueError:
                fmt = date_spec.date_format or "YYYY-MM-DD"
                where = "/".join(date_spec.paths()) or name
                problems.append(_problem(row, where, f"not a date ({fmt}): {text!r}"))
    if dates["start_date"] and dates["end_date"] and dates["end_date"] < dates["start_date"]:
        problems.append(_problem(row, "end_date", "ends before it starts"))
    investigators: list[InvestigatorRecord] = []
    if mapping.investigators is not None:
        try:
            investigators = _investigators(
                reader, mapping.investigators, row, mapping.investigators.id_scheme or source
            )
        except ValueError as exc:
            problems.append(_problem(row, "investigators", str(exc)))
    if problems:
        return None, problems
    currency = reader.text(spec.currency) or mapping.currency
    program_code = reader.text(spec.program) or None
    return (
        ProjectRecord(
            row=row,
            source=source,
            external_id=values["external_id"],
            kind=mapping.kind,
            title=values["title"],
            abstract=reader.text(spec.abstract),
            agency_code=values["agency"],
            agency_name=reader.text(spec.agency_name) or values["agency"],
            program_code=program_code,
            program_name=(reader.text(spec.program_name) or program_code) if program_code else None,
            institution=reader.text(spec.institution)[:300] or None,
            amount=amount,
            currency=currency.upper()[:3],
            start_date=dates["start_date"],
            end_date=dates["end_date"],
            field_codes=reader.texts(spec.field_codes),
            language=reader.text(spec.language) or mapping.language,
            investigators=investigators,
        ),
        [],
    )


# ------------------------------------------------------------------------------ files


def file_type(filename: str, mapping: PortfolioMapping | None = None) -> str:
    if mapping is not None and mapping.file_type:
        return mapping.file_type
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in SUFFIX_TYPES:
        raise ValidationFailed([(filename, "use a .jsonl, .csv or .xlsx file")])
    return SUFFIX_TYPES[suffix]


def raw_records(stream: IO[bytes], filename: str, kind: str) -> Iterator[tuple[int, Any]]:
    """(row number, record) for each record; a JSON line that cannot be read is a problem
    record ``(row, ValueError)``. Rows are numbered as a person sees them (CSV/XLSX header =
    row 1, JSONL line 1 = row 1)."""
    if kind == "jsonl":
        for n, line in enumerate(stream, start=1):
            text = line.decode("utf-8-sig" if n == 1 else "utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield n, ValueError(f"not JSON: {exc.msg} at column {exc.colno}")
                continue
            yield n, record if isinstance(record, dict) else ValueError("not a JSON object")
    elif kind == "csv":
        text_stream = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text_stream)
        for n, values in enumerate(reader, start=2):
            if not any((v or "").strip() for v in values.values() if isinstance(v, str)):
                continue
            yield n, {k: v for k, v in values.items() if k is not None}
    else:
        from openpyxl import load_workbook

        try:
            book = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ValidationFailed([(filename, f"not a readable XLSX file ({exc})")]) from None
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [_text(h) for h in header]
        for n, values in enumerate(rows, start=2):
            if all(v is None or _text(v) == "" for v in values):
                continue
            yield n, {h: ("" if v is None else v) for h, v in zip(names, values, strict=False) if h}


def read_records(
    stream: IO[bytes],
    filename: str,
    mapping: PortfolioMapping | None = None,
    *,
    source: str | None = None,
    chosen_out: list[PortfolioMapping] | None = None,
) -> Iterator[tuple[ProjectRecord | None, list[dict[str, Any]]]]:
    """Each record of a file as a project or its problems; detects the mapping when none is
    given (from the first record's keys; appended to ``chosen_out``). Duplicate external IDs in
    one file are problems."""
    kind = file_type(filename, mapping)
    seen: dict[str, int] = {}
    chosen = mapping
    if chosen is not None and chosen_out is not None:
        chosen_out.append(chosen)
    for row, raw in raw_records(stream, filename, kind):
        if isinstance(raw, Exception):
            yield None, [_problem(row, "", str(raw))]
            continue
        if chosen is None:
            chosen = detect_mapping(set(raw))
            if chosen is None:
                raise ValidationFailed(
                    [(filename, "cannot tell the file's shape: give a mapping (--mapping)")]
                )
            if chosen_out is not None:
                chosen_out.append(chosen)
        record, problems = to_record(chosen, raw, row, source or chosen.source)
        if record is not None:
            if record.external_id in seen and chosen.duplicates == "first":
                continue
            if record.external_id in seen:
                yield (
                    None,
                    [
                        _problem(
                            row,
                            "external_id",
                            f"duplicate id {record.external_id!r} "
                            f"(first at row {seen[record.external_id]})",
                        )
                    ],
                )
                continue
            seen[record.external_id] = row
        yield record, problems


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed.

    >>> normalise("Müller-Lüdenscheidt,  J.")
    'muller ludenscheidt j'
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^\w]+", " ", text)
    return _SPACES.sub(" ", text).strip()


_INSTITUTION_NOISE = re.compile(r"\b(the|inc|incorporated|corp|corporation|llc|of|at)\b")


def identity_key(inv: InvestigatorRecord, institution: str | None) -> str:
    """``id:<scheme>:<id>`` where the source gives an ID, else the normalised name (last name and
    first given name) plus the normalised institution."""
    if inv.person_id:
        return f"id:{inv.id_scheme}:{inv.person_id}"
    first = normalise(inv.first).split(" ")[0] if inv.first else ""
    inst = _SPACES.sub(" ", _INSTITUTION_NOISE.sub(" ", normalise(institution or ""))).strip()
    return f"name:{normalise(inv.last)} {first}|{inst}"[:400]


def name_key(inv: InvestigatorRecord) -> str:
    first = normalise(inv.first).split(" ")[0] if inv.first else ""
    return f"{normalise(inv.last)} {first}".strip()[:300]
