"""``stcoord budget ...``: classifications, crosscuts, unity, data calls, imports, allocation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from stcoord.budget import classifications, datacalls
from stcoord.budget.crosscut import crosscut
from stcoord.budget.unity import unity_check
from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors, read_text_arg
from stcoord.cli.session import cli_actor, cli_scope
from stcoord.tabular import TableError, format_of, write_table

app = typer.Typer(
    help="Budget crosscut, data calls, priorities and allocation.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _list(text: str | None) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


@app.command("classifications")
def classifications_command(as_json: bool = JSON) -> None:
    """List the field classifications and their fields."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows: list[dict[str, Any]] = [
            {
                "key": c.key,
                "name": c.name,
                "jurisdiction": c.jurisdiction_code,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
                "fields": [f.key for f in c.fields],
            }
            for c in classifications.list_classifications(session, cli_actor(session))
        ]
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            ["key", "years", "fields"],
            [
                [r["key"], f"{r['valid_from'] or ''}-{r['valid_to'] or ''}", ",".join(r["fields"])]
                for r in rows
            ],
        )


@app.command("load-classification")
def load_classification_command(path: str) -> None:
    """Create or update a classification from a stcoord-classification/1 file."""
    text, name = read_text_arg(path)
    with friendly_errors(), cli_scope(write=True) as session:
        spec = classifications.parse_classification(text, name)
        result = classifications.load_classification(session, cli_actor(session), spec)
    typer.echo(
        f"{result.key}: {'created' if result.created else 'updated'}; "
        f"{len(result.fields_added)} field(s) added"
    )


@app.command("crosscut")
def crosscut_command(
    by: str = typer.Option("agency,year", "--by", help="agency, field, year, program."),
    phase: str = typer.Option("enacted", "--phase", help="request, estimate, enacted, actual."),
    jurisdiction: str = typer.Option("US", "--jurisdiction", "-j"),
    classification: str = typer.Option(None, "--classification", "-c"),
    years: str = typer.Option(None, "--years", help="e.g. 2022,2023"),
    agencies: str = typer.Option(None, "--agencies"),
    fields: str = typer.Option(None, "--fields"),
    output: Path = typer.Option(None, "--output", "-o", help="Write a .csv or .xlsx file."),
    as_json: bool = JSON,
) -> None:
    """Budget amounts grouped by agency, field, year and/or program for one phase."""
    try:
        year_list = [int(y) for y in _list(years)]
    except ValueError:
        fail(f"--years takes years such as 2022,2023, not {years!r}")
    with friendly_errors(as_json), cli_scope(write=False) as session:
        result = crosscut(
            session,
            cli_actor(session),
            jurisdiction=jurisdiction.upper(),
            by=_list(by),
            phase=phase,
            classification=classification,
            years=year_list or None,
            agencies=_list(agencies) or None,
            fields=_list(fields) or None,
        )
    rows = [
        {**r.keys, "amount": r.amount, "share_of_year": r.share_of_year, "growth": r.growth}
        for r in result.rows
    ]
    headers = [*result.by, "amount", "share_of_year", "growth"]
    if output:
        try:
            fmt = format_of(output.name)
        except TableError as exc:
            fail(str(exc))
        output.write_bytes(write_table(headers, [[r[h] for h in headers] for r in rows], fmt))
        typer.echo(f"wrote {len(rows)} rows to {output}")
    elif as_json:
        emit_json(rows)
    else:
        emit_table(
            headers,
            [
                [
                    *(r[d] for d in result.by),
                    f"{r['amount']:,.2f}",
                    _pct(r["share_of_year"]),
                    _pct(r["growth"]),
                ]
                for r in rows
            ],
        )
        typer.echo(f"total {result.total:,.2f}")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


@app.command("unity")
def unity_command(
    year: int = typer.Option(..., "--year"),
    classification: str = typer.Option(..., "--classification", "-c"),
    jurisdiction: str = typer.Option("US", "--jurisdiction", "-j"),
    phase: str = typer.Option("enacted", "--phase"),
    as_json: bool = JSON,
) -> None:
    """Per field: money that passed through the coordinating body against the total."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows = unity_check(
            session,
            cli_actor(session),
            jurisdiction=jurisdiction.upper(),
            classification=classification,
            fiscal_year=year,
            phase=phase,
        )
    if as_json:
        emit_json([{**r.__dict__, "steered_share": r.steered_share} for r in rows])
    else:
        emit_table(
            ["field", "steered", "total", "share"],
            [
                [r.field, f"{r.steered:,.2f}", f"{r.total:,.2f}", _pct(r.steered_share)]
                for r in rows
            ],
        )


@app.command("datacall-status")
def datacall_status_command(key: str, as_json: bool = JSON) -> None:
    """Who has submitted to a data call."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows = datacalls.submission_status(session, cli_actor(session), key)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            ["agency", "status", "lines", "request total", "submitted"],
            [
                [r.agency, r.status, r.line_count, r.total_request or "", r.submitted_at or ""]
                for r in rows
            ],
        )
