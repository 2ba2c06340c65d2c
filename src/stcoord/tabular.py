"""CSV and XLSX tables: read rows with their row numbers, write rows back.

Every table the app shows can be exported through :func:`write_table`, and every import reads
through :func:`read_table`, so problems can name the row and column a person sees in a
spreadsheet (row 1 is the header).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, Any]


class TableError(ValueError):
    """The file cannot be read as a table at all."""


def format_of(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in FORMATS:
        raise TableError(f"{filename}: use a .csv or .xlsx file")
    return suffix


def read_table(data: bytes, filename: str) -> tuple[list[str], list[Row]]:
    """Headers and non-empty rows of a CSV (UTF-8, with or without BOM) or XLSX file."""
    if format_of(filename) == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TableError(f"{filename}: not UTF-8 text ({exc.reason})") from None
        reader = csv.reader(io.StringIO(text))
        raw = list(reader)
    else:
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise TableError(f"{filename}: not a readable XLSX file ({exc})") from None
        sheet = book.worksheets[0]
        raw = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    if not raw:
        raise TableError(f"{filename}: the file is empty")
    headers = [str(h).strip() for h in raw[0]]
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        if all(str(v).strip() == "" for v in values):
            continue
        padded = list(values) + [""] * (len(headers) - len(values))
        rows.append(Row(number, {h: padded[i] for i, h in enumerate(headers) if h}))
    return headers, rows


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return ";".join(str(v) for v in value)
    return value


def write_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> bytes:
    """Serialise rows as CSV (UTF-8 with BOM, so spreadsheet programs read CJK) or XLSX."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else _cell(v) for v in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(list(headers))
        for row in rows:
            sheet.append([_cell(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise TableError(f"unknown format {fmt!r}; use csv or xlsx")


# ---------------------------------------------------------------- cell parsing


def text_cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def date_cell(value: Any) -> dt.date | None:
    """A date from an ISO string or a spreadsheet date; '' is None; anything else raises."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = text_cell(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"not a date (use YYYY-MM-DD): {text!r}") from None


def number_cell(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = text_cell(value).replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
