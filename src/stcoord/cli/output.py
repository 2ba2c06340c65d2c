"""Printing results for people (tables) and programs (``--json``)."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from stcoord.auth.permissions import PermissionDenied
from stcoord.errors import ServiceError
from stcoord.institutions.mechanism_file import MechanismFileError


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # as the API does (FastAPI's encoder): a number, exact to the cent up to ~10^13
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def emit_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            typer.echo("  ".join("-" * w for w in widths))


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def friendly_errors(as_json: bool = False) -> Iterator[None]:
    """Turn service errors into a clear message (or a JSON error object) and exit code 1/2."""
    try:
        yield
    except MechanismFileError as exc:
        if as_json:
            emit_json(
                {"error": {"code": "invalid_file", "problems": [p.as_dict() for p in exc.problems]}}
            )
        else:
            typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except ServiceError as exc:
        if as_json:
            emit_json(exc.as_dict())
        else:
            typer.echo(f"error: {exc.message}", err=True)
            for detail in exc.details:
                typer.echo(f"  {detail.get('path', '')}: {detail.get('message', '')}", err=True)
        raise typer.Exit(1) from None
    except PermissionDenied as exc:
        if as_json:
            emit_json({"error": {"code": "forbidden", "message": str(exc)}})
        else:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        if not _missing_schema(exc):
            raise
        fail("the database has no stcoord schema yet: run `stcoord db upgrade` first")


def _missing_schema(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def read_text_arg(path: str) -> tuple[str, str]:
    """Read a file argument ("-" for standard input); return (text, name for messages)."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), path
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
