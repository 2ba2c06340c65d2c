"""``stcoord advisory ...``: list, show, file, import, respond, status, link, adoption, tracker."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path

import typer

from stcoord.advisory import schemas, service
from stcoord.advisory.pages import build_tracker_pdf
from stcoord.advisory.tracker import tracker_data, tracker_json
from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors
from stcoord.cli.session import cli_actor, cli_scope

app = typer.Typer(
    help="Advisory bodies' reports and recommendations, responses and status to closure.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
BODY = typer.Option(None, "--body", help="Advisory body as CODE:key, e.g. US:pcast.")
JURISDICTION = typer.Option(None, "--jurisdiction", "-j")
VERSION = typer.Option(None, "--version", help="The version you read (refused if stale).")


def _date(text: str | None) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"not a date (use YYYY-MM-DD): {text!r}")


@app.command("list")
def list_command(
    body: str = BODY,
    jurisdiction: str = JURISDICTION,
    report: str = typer.Option(None, "--report"),
    status: str = typer.Option(None, "--status", help="open, partly_addressed, fully_addressed"),
    position: str = typer.Option(
        None, "--position", help="accept, partly_accept, reject, under_consideration, none"
    ),
    sort: str = typer.Option(None, "--sort", help="e.g. status, -benefit_amount, number"),
    as_json: bool = JSON,
) -> None:
    """The tracker: recommendations with their response, status and tasks."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        filters = service.TrackerFilter(
            body=body, jurisdiction=jurisdiction, report=report, status=status, position=position
        )
        rows = service.tracker_rows(session, cli_actor(session), filters)
        from stcoord.web.pagination import sort_rows

        rows = sort_rows(rows, sort, service.TRACKER_SORTS)
        views = [schemas.tracker_view(r) for r in rows]
    if as_json:
        emit_json({"items": views, "total": len(views)})
        return
    if not views:
        typer.echo("No recommendations match.")
        return
    emit_table(
        ["body", "report", "#", "position", "status", "tasks"],
        [
            [
                v["body"],
                v["report"],
                v["number"],
                v["position"] or "-",
                v["status"],
                ",".join(f"{t['plan']}/{t['task']}" for t in v["tasks"]),
            ]
            for v in views
        ],
    )


@app.command("show")
def show_command(report: str, number: str = typer.Argument(None), as_json: bool = JSON) -> None:
    """A report with its recommendations, or one recommendation with its history."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        actor = cli_actor(session)
        if number is None:
            view = schemas.report_view(
                service.get_report(session, actor, report), recommendations=True
            )
        else:
            rows = service.tracker_rows(session, actor, service.TrackerFilter(report=report))
            row = next((r for r in rows if r.rec.number == number), None)
            rec = service.get_recommendation(session, actor, report, number)
            view = schemas.recommendation_view(rec, tasks=row.tasks if row else [], history=True)
    if as_json:
        emit_json(view)
        return
    if number is None:
        typer.echo(f"{view['title']} [{view['key']}] {view['jurisdiction']}:{view['body']}")
        emit_table(
            ["#", "position", "status", "text"],
            [
                [r["number"], r["position"] or "-", r["status"], r["text"][:70]]
                for r in view["recommendations"]
            ],
        )
    else:
        typer.echo(f"{view['report']} #{view['number']} ({view['body']}) v{view['version']}")
        typer.echo(view["text"])
        typer.echo(f"position: {view['position'] or '-'}  status: {view['status']}")
        for r in view["responses"]:
            typer.echo(f"  response {r['on_date']}: {r['position']} - {r['text']}")
        for c in view["history"]:
            typer.echo(f"  status {c['on_date']}: {c['from']} -> {c['to']}")
        for t in view["tasks"]:
            typer.echo(f"  task {t['plan']}/{t['task']}: {t['title']}")


@app.command("file")
def file_command(
    key: str,
    jurisdiction: str = typer.Option(..., "--jurisdiction", "-j"),
    body: str = typer.Option(..., "--body", help="Body key, e.g. pcast"),
    title: str = typer.Option(..., "--title"),
    published_on: str = typer.Option(None, "--date"),
    url: str = typer.Option(None, "--url"),
    source: str = typer.Option(None, "--source"),
    as_json: bool = JSON,
) -> None:
    """File an advisory body's report."""
    with friendly_errors(as_json), cli_scope(write=True) as session:
        report = service.file_report(
            session,
            cli_actor(session),
            code=jurisdiction,
            body=body,
            key=key,
            title=title,
            published_on=_date(published_on) if published_on else None,
            url=url,
            source=source,
        )
        view = schemas.report_view(report)
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"report {key} filed for {jurisdiction}:{body}")


@app.command("import")
def import_command(report: str, path: Path, as_json: bool = JSON) -> None:
    """Add or update a report's recommendations from CSV/XLSX (number, text, addressed_to);
    any bad row refuses the whole file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    with friendly_errors(as_json), cli_scope(write=True) as session:
        result = service.import_recommendations(
            session, cli_actor(session), report_key=report, data=data, filename=path.name
        )
    if as_json:
        emit_json(asdict(result))
    else:
        typer.echo(
            f"{len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged"
        )


@app.command("respond")
def respond_command(
    report: str,
    number: str,
    position: str = typer.Option(
        ..., "--position", help="accept, partly_accept, reject, under_consideration"
    ),
    text: str = typer.Option(..., "--text"),
    on_date: str = typer.Option(None, "--date"),
    responding_body: str = typer.Option(None, "--body", help="Responding body key"),
    version: int = VERSION,
    as_json: bool = JSON,
) -> None:
    """Record the government's response to a recommendation."""
    with friendly_errors(as_json), cli_scope(write=True) as session:
        actor = cli_actor(session)
        service.respond(
            session,
            actor,
            report_key=report,
            number=number,
            position=position,
            text=text,
            on_date=_date(on_date),
            responding_body=responding_body,
            expected_version=version,
        )
        view = schemas.recommendation_view(
            service.get_recommendation(session, actor, report, number), history=True
        )
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"{report}/{number}: {position}")


@app.command("status")
def status_command(
    report: str,
    number: str,
    status: str = typer.Option(..., "--status", help="open, partly_addressed, fully_addressed"),
    on_date: str = typer.Option(None, "--date"),
    benefit: str = typer.Option(None, "--benefit"),
    amount: str = typer.Option(None, "--amount", help="Benefit amount"),
    currency: str = typer.Option(None, "--currency"),
    evidence: str = typer.Option(None, "--evidence"),
    note: str = typer.Option(None, "--note"),
    version: int = VERSION,
    as_json: bool = JSON,
) -> None:
    """Move a recommendation towards closure, with the benefit claimed and its evidence."""
    with friendly_errors(as_json), cli_scope(write=True) as session:
        actor = cli_actor(session)
        service.set_status(
            session,
            actor,
            report_key=report,
            number=number,
            status=status,
            on_date=_date(on_date),
            benefit=benefit,
            benefit_amount=amount,
            benefit_currency=currency,
            evidence=evidence,
            note=note,
            expected_version=version,
        )
        view = schemas.recommendation_view(
            service.get_recommendation(session, actor, report, number), history=True
        )
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"{report}/{number}: {status}")


@app.command("link")
def link_command(
    report: str,
    number: str,
    plan: str = typer.Option(..., "--plan"),
    task: str = typer.Option(..., "--task"),
    as_json: bool = JSON,
) -> None:
    """Link a recommendation to the plan task that carries it out."""
    with friendly_errors(as_json), cli_scope(write=True) as session:
        service.link_task(
            session,
            cli_actor(session),
            report_key=report,
            number=number,
            plan_key=plan,
            task_code=task,
        )
    if as_json:
        emit_json({"report": report, "number": number, "plan": plan, "task": task})
    else:
        typer.echo(f"{report}/{number} -> {plan}/{task}")


@app.command("adoption")
def adoption_command(jurisdiction: str = JURISDICTION, as_json: bool = JSON) -> None:
    """Adoption rate per advisory body."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows = [
            a.as_dict()
            for a in service.adoption(session, cli_actor(session), jurisdiction=jurisdiction)
        ]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["body", "n", "accepted", "partly", "rejected", "unanswered", "adoption", "fully addr."],
        [
            [
                r["body"],
                r["total"],
                r["accepted"],
                r["partly_accepted"],
                r["rejected"],
                r["unanswered"],
                f"{float(r['adoption_rate']):.0%}",
                f"{float(r['fully_addressed_share']):.0%}",
            ]
            for r in rows
        ],
    )


@app.command("tracker")
def tracker_command(
    body: str = BODY,
    jurisdiction: str = JURISDICTION,
    pdf: Path = typer.Option(None, "--pdf", help="Write the tracker report as PDF here."),
    lang: str = typer.Option("en", "--lang", help="en, zh or ja (for the PDF)."),
    as_json: bool = JSON,
) -> None:
    """The advisory tracker report: per body and report, each recommendation's response,
    status, linked tasks and benefit (JSON, or a PDF with --pdf)."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        actor = cli_actor(session)
        filters = service.TrackerFilter(body=body, jurisdiction=jurisdiction)
        if pdf is not None:
            pdf.write_bytes(build_tracker_pdf(session, actor, lang, filters))
        data = tracker_json(tracker_data(session, actor, filters))
    if as_json:
        emit_json(data)
        return
    if pdf is not None:
        typer.echo(f"wrote {pdf}")
    for b in data["bodies"]:
        a = b["adoption"]
        typer.echo(
            f"{b['body']}: {a['total']} recommendations, adoption {float(a['adoption_rate']):.0%}, "
            f"fully addressed {a['fully_addressed']}"
        )
