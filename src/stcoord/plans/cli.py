"""``stcoord plan ...``: list, show, status, advance, timeline, diff, alignment, sheets, load."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors, read_text_arg
from stcoord.cli.session import cli_actor, cli_scope
from stcoord.plans import schemas, service, sheets
from stcoord.plans.plan_file import PlanFileError, load_plan, parse_plan
from stcoord.plans.status import alignment, plan_status
from stcoord.tabular import TableError, format_of, read_table, write_table

app = typer.Typer(
    help="Strategic plans: procedure, gates, drafts, goals, progress.", no_args_is_help=True
)
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
TODAY = typer.Option(None, "--today", help="Reference date for statuses (YYYY-MM-DD).")


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"not a date (use YYYY-MM-DD): {text!r}")


@app.command("list")
def list_command(
    jurisdiction: str = typer.Option(None, "--jurisdiction", "-j"), as_json: bool = JSON
) -> None:
    """List plans with their current stage."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        views = [
            schemas.plan_view(session, p)
            for p in service.list_plans(session, cli_actor(session), jurisdiction)
        ]
    if as_json:
        emit_json(views)
    elif not views:
        typer.echo("No plans yet. Open one with the API or load a plan file.")
    else:
        emit_table(
            ["key", "title", "status", "current stage"],
            [[v["key"], v["title"], v["status"], v["current_stage"] or "-"] for v in views],
        )


@app.command("show")
def show_command(key: str, as_json: bool = JSON, today: str = TODAY) -> None:
    """The plan's stages with planned and actual dates."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        actor = cli_actor(session)
        plan = service.get_plan(session, actor, key)
        view = schemas.plan_view(session, plan, plan_status(session, actor, key, _date(today)))
    if as_json:
        emit_json(view)
        return
    typer.echo(f"{view['title']} [{view['key']}] {view['status']}")
    emit_table(
        ["#", "stage", "status", "actor", "planned", "actual"],
        [
            [
                s["seq"],
                s["name"],
                s["status"],
                s["actor"] or "",
                f"{s['planned_start'] or ''}..{s['planned_end'] or ''}",
                f"{s['actual_start'] or ''}..{s['actual_end'] or ''}",
            ]
            for s in view["stages"]
        ],
    )


@app.command("status")
def status_command(key: str, as_json: bool = JSON, today: str = TODAY) -> None:
    """Current stage, unmet gate conditions, and per goal its progress and status."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        status = plan_status(session, cli_actor(session), key, _date(today))
    view = schemas.status_view(status)
    if as_json:
        emit_json(view)
        return
    typer.echo(f"{key}: {status.plan_status}; current stage: {status.current_stage_name or '-'}")
    for unmet in status.unmet:
        typer.echo(f"  blocked: {unmet.message}")
    emit_table(
        ["goal", "kind", "progress", "status", "title"],
        [[g.code, g.kind, f"{g.progress:.0%}", g.status, g.title[:60]] for g in status.goals],
    )


@app.command("advance")
def advance_command(
    key: str, on: str = typer.Option(None, "--on", help="Date (YYYY-MM-DD)."), as_json: bool = JSON
) -> None:
    """Close the current stage and open the next, if its gate holds."""
    with friendly_errors(as_json), cli_scope(write=True) as session:
        nxt = service.advance(session, cli_actor(session), plan_key=key, on_date=_date(on))
        result = {"plan": key, "opened": nxt.key if nxt else None}
    if as_json:
        emit_json(result)
    else:
        typer.echo(
            f"{key}: now at stage {result['opened']}"
            if result["opened"]
            else f"{key}: the last stage closed; the plan is complete"
        )


@app.command("timeline")
def timeline_command(key: str, as_json: bool = JSON) -> None:
    with friendly_errors(as_json), cli_scope(write=False) as session:
        events = [schemas.event_view(e) for e in service.timeline(session, cli_actor(session), key)]
    if as_json:
        emit_json(events)
    else:
        emit_table(
            ["date", "kind", "by", "detail"],
            [[e["on_date"] or e["at"].date(), e["kind"], e["actor"], e["detail"]] for e in events],
        )


@app.command("diff")
def diff_command(key: str, old: int, new: int, as_json: bool = JSON) -> None:
    """What changed between two draft versions, section by section."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        comparison = service.compare_drafts(session, cli_actor(session), key, old, new)
    if as_json:
        emit_json({"old": old, "new": new, "sections": comparison.sections})
        return
    for section in comparison.sections:
        heading = comparison.headings.get(section.key, section.key)
        typer.echo(f"== {heading} [{section.key}]: {section.change}")
        if section.unified:
            typer.echo(section.unified)


@app.command("alignment")
def alignment_command(key: str, as_json: bool = JSON) -> None:
    """Tasks without indicator, budget link or lead; bodies named without a mandate."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        report = alignment(session, cli_actor(session), key)
    if as_json:
        emit_json(
            {
                "tasks_checked": report.tasks_checked,
                "aligned_share": report.aligned_share,
                "issues": report.issues,
            }
        )
        return
    typer.echo(f"{report.tasks_checked} tasks, {report.aligned_share:.0%} fully aligned")
    emit_table(
        ["task", "body", "problem"],
        [[i.task or "", i.body or "", i.problem] for i in report.issues],
    )


@app.command("export")
def export_command(
    key: str,
    sheet: str = typer.Argument(..., help=", ".join(sheets.SHEETS)),
    output: Path = typer.Option(..., "--output", "-o", help="File to write (.csv or .xlsx)."),
) -> None:
    """Export tasks, milestones or indicator values."""
    with friendly_errors(), cli_scope(write=False) as session:
        try:
            fmt = format_of(output.name)
        except TableError as exc:
            fail(str(exc))
        headers, rows = sheets.export_sheet(session, cli_actor(session), key, sheet)
    output.write_bytes(write_table(headers, rows, fmt))
    typer.echo(f"wrote {len(rows)} rows to {output}")


@app.command("import")
def import_command(key: str, sheet: str, path: Path, as_json: bool = JSON) -> None:
    """Import a sheet; every bad row is reported and nothing is written."""
    try:
        headers, rows = read_table(path.read_bytes(), path.name)
    except (OSError, TableError) as exc:
        fail(str(exc))
    with friendly_errors(as_json), cli_scope(write=True) as session:
        result = sheets.import_sheet(session, cli_actor(session), key, sheet, headers, rows)
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"{sheet}: {result.created} created, {result.updated} updated")


@app.command("load")
def load_command(path: str, as_json: bool = JSON) -> None:
    """Replay a plan file (YAML) through the procedure engine."""
    text, name = read_text_arg(path)
    try:
        spec = parse_plan(text, name)
        with friendly_errors(as_json), cli_scope(write=True) as session:
            created = load_plan(session, cli_actor(session), spec, name)
    except PlanFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if as_json:
        emit_json({"key": spec.key, "created": created})
    else:
        typer.echo(f"{spec.key}: {'loaded' if created else 'already present, nothing changed'}")


@app.command("report")
def report_command(
    key: str,
    kind: str = typer.Argument(..., help="dossier or progress"),
    output: Path = typer.Option(..., "--output", "-o", help="PDF file to write."),
    lang: str = typer.Option("en", "--lang", help="en, zh or ja"),
    today: str = TODAY,
) -> None:
    """Write the plan dossier or the progress report as a PDF with charts."""
    from stcoord.plans.pages import build_dossier_pdf, build_progress_pdf
    from stcoord.web.i18n import LANGUAGES

    builders = {"dossier": build_dossier_pdf, "progress": build_progress_pdf}
    if kind not in builders:
        fail("the report is dossier or progress")
    if lang not in LANGUAGES:
        fail(f"--lang is one of {', '.join(LANGUAGES)}")
    with friendly_errors(), cli_scope(write=False) as session:
        pdf = builders[kind](session, cli_actor(session), key, lang=lang, today=_date(today))
    output.write_bytes(pdf)
    typer.echo(f"wrote {output} ({len(pdf) // 1024} KiB)")
