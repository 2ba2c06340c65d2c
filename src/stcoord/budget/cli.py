"""``stcoord budget ...``: classifications, crosscuts, unity, data calls, imports, allocation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from stcoord.budget import classifications, datacalls, priorities, scenarios
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


@app.command("priorities")
def priorities_command(
    key: str = typer.Argument(..., help="Name of the new priority set."),
    classification: str = typer.Option(..., "--classification", "-c"),
    year: int = typer.Option(..., "--year"),
    weights: str = typer.Option(None, "--weights", help="Direct weights: AI=3,LSN=1,..."),
    ahp: str = typer.Option(
        None, "--ahp", help="Pairwise judgements: AI>LSN=3,AI>HCIA=5,LSN>HCIA=2"
    ),
    title: str = typer.Option(None, "--title"),
    memo: Path = typer.Option(None, "--memo", help="A text file with the priorities memo."),
    as_json: bool = JSON,
) -> None:
    """Set priorities directly (--weights) or by AHP pairwise judgements (--ahp)."""
    if bool(weights) == bool(ahp):
        fail("give either --weights or --ahp")
    try:
        direct = {k: float(v) for k, v in (p.split("=") for p in _list(weights))}
        pairs = [(*p.split("=")[0].split(">"), p.split("=")[1]) for p in _list(ahp)]
    except ValueError:
        fail("write weights as FIELD=number and judgements as A>B=value")
    items = sorted({x for a, b, _ in pairs for x in (a, b)}) if pairs else None
    with friendly_errors(as_json), cli_scope(write=True) as session:
        row = priorities.set_priorities(
            session,
            cli_actor(session),
            key=key,
            title=title or key,
            classification=classification,
            fiscal_year=year,
            method="ahp" if ahp else "direct",
            weights=direct or None,
            judgements=[list(p) for p in pairs] or None,
            items=items,
            memo=memo.read_text(encoding="utf-8") if memo else None,
        )
        view: dict[str, Any] = {
            "key": row.key,
            "weights": row.weights,
            "consistency_ratio": row.consistency_ratio,
            "warning": priorities.consistency_warning(row),
        }
    if as_json:
        emit_json(view)
        return
    emit_table(["field", "weight"], [[f, f"{w:.3f}"] for f, w in view["weights"].items()])
    if view["consistency_ratio"] is not None:
        typer.echo(f"consistency ratio {view['consistency_ratio']:.3f}")
    if view["warning"]:
        typer.echo(f"warning: {view['warning']}")


@app.command("allocate")
def allocate_command(
    key: str = typer.Argument(..., help="Name of the scenario to save."),
    priority_set: str = typer.Option(..., "--priorities", "-p"),
    base_year: int = typer.Option(..., "--base-year"),
    envelope: float = typer.Option(..., "--envelope"),
    band: float = typer.Option(0.10, "--band", help="Bound each program to last year +/-."),
    spend_all: bool = typer.Option(False, "--spend-all"),
    min_share: str = typer.Option(None, "--min-share", help="FIELD=fraction,..."),
    solver: str = typer.Option("highs", "--solver", help="highs or glop"),
    as_json: bool = JSON,
) -> None:
    """Propose an allocation under the envelope; explain binding constraints or the conflict."""
    try:
        shares = {k: float(v) for k, v in (p.split("=") for p in _list(min_share))}
    except ValueError:
        fail("write minimum shares as FIELD=fraction, e.g. AI=0.2")
    params = scenarios.ScenarioParameters(
        base_year=base_year,
        envelope=envelope,
        band=band,
        spend_all=spend_all,
        min_shares=shares or None,
    )
    with friendly_errors(as_json), cli_scope(write=True) as session:
        row = scenarios.run_scenario(
            session,
            cli_actor(session),
            key=key,
            title=key,
            priorities=priority_set,
            parameters=params,
            solver=solver,
        )
        result = row.result
    if as_json:
        emit_json({"key": key, "parameters": row.parameters, "result": result})
        return
    typer.echo(
        f"{key}: {result['status']}  total {result['total']:,.2f}  objective {result['objective']}"
    )
    if result["conflict"]:
        typer.echo(f"conflict: {result['conflict']['explanation']}")
        for line in result["conflict"]["descriptions"]:
            typer.echo(f"  - {line}")
        return
    typer.echo(f"one more unit of envelope is worth {result['envelope_shadow_price']:.4f}")
    emit_table(
        ["agency", "allocated"],
        [[a, f"{v:,.2f}"] for a, v in sorted(result["agency_totals"].items())],
    )
    emit_table(
        ["binding constraint", "shadow price"],
        [[b["description"], f"{b['shadow_price']:.4f}"] for b in result["binding"][:10]],
    )


@app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="CSV, XLSX or JSONL file."),
    mapping: str = typer.Option(
        ...,
        "--mapping",
        "-m",
        help="A shipped mapping key (e.g. jp-administrative-review-2024, "
        "us-program-inventory, generic) or a mapping file.",
    ),
    source: str = typer.Option(
        None,
        "--source",
        help="Name of this import (default: the file "
        "name); importing the same source again replaces its lines.",
    ),
    classification: str = typer.Option(None, "--classification", "-c"),
    jurisdiction: str = typer.Option(None, "--jurisdiction", "-j"),
    currency: str = typer.Option(None, "--currency"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, write nothing."),
    as_json: bool = JSON,
) -> None:
    """Import budget lines through a mapping; every bad row is reported and nothing written."""
    from stcoord.budget.imports import import_budget, parse_mapping, shipped_mapping

    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    with friendly_errors(as_json):
        if Path(mapping).is_file():
            text, name = read_text_arg(mapping)
            spec = parse_mapping(text, name)
        else:
            spec = shipped_mapping(mapping)
        if jurisdiction or currency:
            spec = spec.overridden(jurisdiction=jurisdiction, currency=currency)
        with cli_scope(write=True) as session:
            result = import_budget(
                session,
                cli_actor(session),
                mapping=spec,
                data=data,
                filename=path.name,
                source=source or path.name,
                classification_key=classification,
                dry_run=dry_run,
            )
    if as_json:
        emit_json(result.as_dict())
        return
    verb = "checked" if dry_run else "imported"
    typer.echo(
        f"{verb} {result.lines} lines from {result.rows} rows "
        f"({result.skipped} skipped by the filter, {result.merged} merged)"
    )
    for phase, total in result.totals.items():
        typer.echo(f"  {phase}: {total:,.2f}")
    for problem in result.problems:
        typer.echo(f"  row {problem.get('row')}, {problem.get('column')}: {problem['message']}")


@app.command("supplement")
def supplement_command(
    output: Path = typer.Option(..., "--output", "-o", help="PDF file to write."),
    jurisdiction: str = typer.Option("US", "--jurisdiction", "-j"),
    classification: str = typer.Option(None, "--classification", "-c"),
    years: str = typer.Option(None, "--years", help="e.g. 2022,2023"),
    phase: str = typer.Option("enacted", "--phase"),
    lang: str = typer.Option("en", "--lang", help="en, zh or ja"),
) -> None:
    """Write the budget supplement (crosscut tables and charts) as a PDF."""
    from stcoord.budget.pages import build_supplement_pdf

    try:
        year_list = [int(y) for y in _list(years)]
    except ValueError:
        fail(f"--years takes years such as 2022,2023, not {years!r}")
    with friendly_errors(), cli_scope(write=False) as session:
        pdf = build_supplement_pdf(
            session,
            cli_actor(session),
            jurisdiction=jurisdiction.upper(),
            classification=classification,
            years=year_list or None,
            phase=phase,
            lang=lang,
        )
    output.write_bytes(pdf)
    typer.echo(f"wrote {output} ({len(pdf) // 1024} KiB)")
