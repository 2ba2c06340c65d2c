"""``stcoord mechanism ...``: list, show, load, export, diagnose, compare."""

from __future__ import annotations

from pathlib import Path

import typer

from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors, read_text_arg
from stcoord.cli.session import cli_actor, cli_scope
from stcoord.institutions import service
from stcoord.institutions.diagnosis import (
    compare_jurisdictions,
    diagnose_jurisdiction,
    diagnose_spec,
)
from stcoord.institutions.mechanism_file import dump_mechanism, parse_mechanism

app = typer.Typer(
    help="Coordination mechanisms: bodies, seats, mandates, relations, diagnosis.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


@app.command("list")
def list_command(as_json: bool = JSON) -> None:
    """List the jurisdictions and what their mechanisms hold."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows = service.list_jurisdictions(session, cli_actor(session))
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("No mechanisms loaded. Run `stcoord seed` or `stcoord mechanism load FILE`.")
        return
    emit_table(
        ["code", "name", "bodies", "seats", "mandates", "relations", "fields", "procedures"],
        [
            [r.code, r.name, r.bodies, r.seats, r.mandates, r.relations, r.fields, r.procedures]
            for r in rows
        ],
    )


@app.command("show")
def show_command(
    code: str,
    body: str = typer.Option(None, "--body", help="Show one body by key."),
    as_json: bool = JSON,
) -> None:
    """Show a mechanism (or one body of it)."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        spec = service.export_mechanism(session, cli_actor(session), code)
    if body:
        match = [b for b in spec.bodies if b.key == body]
        if not match:
            fail(f"no body {body!r} in {spec.jurisdiction.code}")
        if as_json:
            emit_json(match[0].model_dump(mode="json"))
            return
        b = match[0]
        typer.echo(f"{b.name} [{b.key}] {b.kind}, {b.level}")
        emit_table(
            ["role", "holder", "title", "count"],
            [[s.role, s.holder_type, s.title, s.count] for s in b.seats],
        )
        emit_table(
            ["affair", "power", "scope"],
            [
                [m.affair, m.power, m.scope if m.scope == "all" else ",".join(m.scope)]
                for m in b.mandates
            ],
        )
        return
    if as_json:
        emit_json(spec.model_dump(mode="json", by_alias=True))
        return
    typer.echo(f"{spec.jurisdiction.name} ({spec.jurisdiction.code})")
    emit_table(
        ["key", "name", "kind", "level", "parent", "seats", "mandates"],
        [
            [
                b.key,
                b.short_name or b.name,
                b.kind,
                b.level,
                b.parent or "",
                sum(s.count for s in b.seats),
                len(b.mandates),
            ]
            for b in spec.bodies
        ],
    )


@app.command("load")
def load_command(
    path: str = typer.Argument(..., help="Mechanism file (YAML), or - for standard input."),
    as_json: bool = JSON,
) -> None:
    """Load a mechanism file. A bad file changes nothing and every problem is listed."""
    text, name = read_text_arg(path)
    with friendly_errors(as_json):
        spec = parse_mechanism(text, name)
        with cli_scope(write=True) as session:
            result = service.load_mechanism(session, cli_actor(session), spec)
    if as_json:
        emit_json(result)
        return
    if not result.changed:
        typer.echo(f"{result.code}: already up to date, nothing changed.")
    else:
        verb = "created" if result.created else "updated"
        typer.echo(
            f"{result.code}: {verb}; bodies added {len(result.bodies_added)}, "
            f"removed {len(result.bodies_removed)}, changed {len(result.bodies_changed)}."
        )


@app.command("export")
def export_command(
    code: str,
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
) -> None:
    """Write a mechanism back to a file that loads to the same state."""
    with friendly_errors(), cli_scope(write=False) as session:
        text = dump_mechanism(service.export_mechanism(session, cli_actor(session), code))
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text, nl=False)


@app.command("diagnose")
def diagnose_command(
    code: str = typer.Argument(None, help="Jurisdiction code (omit with --file)."),
    field: str = typer.Option(..., "--field", "-f", help="Strategic field key, e.g. ai."),
    file: str = typer.Option(None, "--file", help="Diagnose a mechanism file without loading."),
    as_json: bool = JSON,
) -> None:
    """Diagnose a mechanism against the four findings for one strategic field."""
    with friendly_errors(as_json):
        if file:
            text, name = read_text_arg(file)
            diagnosis = diagnose_spec(parse_mechanism(text, name), field)
        elif code:
            with cli_scope(write=False) as session:
                diagnosis = diagnose_jurisdiction(session, cli_actor(session), code, field)
        else:
            fail("give a jurisdiction code or --file")
    if as_json:
        emit_json(diagnosis)
        return
    typer.echo(f"Diagnosis of {diagnosis.code} for field '{diagnosis.field}'")
    for note in diagnosis.notes:
        typer.echo(f"  note: {note}")
    for f in diagnosis.findings:
        typer.echo(f"\n{f.finding}. {f.title}: {f.verdict.upper()}")
        for ev in f.evidence:
            typer.echo(f"   + {ev.text}  [{ev.path}]")
        for gap in f.gaps:
            typer.echo(f"   - missing: {gap}")
    broken = [c for c in diagnosis.checks if not c.holds]
    typer.echo(f"\nChecks: {len(diagnosis.checks)} run, {len(broken)} failing")
    for c in broken:
        typer.echo(f"   ! {c.body}: {c.detail}")


@app.command("compare")
def compare_command(
    codes: list[str] = typer.Argument(..., help="Two or more jurisdiction codes."),
    field: str = typer.Option(..., "--field", "-f", help="Strategic field key, e.g. ai."),
    as_json: bool = JSON,
) -> None:
    """Compare the diagnoses of several jurisdictions side by side."""
    if len(codes) < 2:
        fail("compare needs at least two jurisdiction codes")
    with friendly_errors(as_json), cli_scope(write=False) as session:
        comparison = compare_jurisdictions(session, cli_actor(session), codes, field)
    if as_json:
        emit_json(
            {
                "field": comparison.field,
                "codes": comparison.codes,
                "rows": comparison.rows(),
                "diagnoses": comparison.diagnoses,
            }
        )
        return
    emit_table(
        ["finding", *comparison.codes],
        [
            [f"{r['finding']}. {r['title']}", *(r[c] for c in comparison.codes)]
            for r in comparison.rows()
        ],
    )
