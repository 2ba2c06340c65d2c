"""``stcoord consult ...``: consultations, and Polis-style analysis of vote exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

import stcoord.flows  # noqa: F401  (plan gates count unanswered comments in every command)
from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors

app = typer.Typer(
    help="Consultations: statements, votes, opinion groups, consensus.", no_args_is_help=True
)


def analysis_as_dict(analysis: Any, export: Any, *, compare: bool = True) -> dict[str, Any]:
    """The JSON shape printed by ``consult analyze --json``."""
    from stcoord.analytics.consensus import adjusted_rand_index

    bodies = {c.id: c.body for c in export.comments}
    out: dict[str, Any] = {
        "participants": len(analysis.participants),
        "in_conversation": len(analysis.in_conversation),
        "statements": len(analysis.statements),
        "excluded_statements": list(analysis.excluded_statements),
        "explained_variance": list(analysis.explained_variance),
        "silhouettes": {str(k): v for k, v in analysis.silhouettes.items()},
        "groups": [
            {
                "id": g.id,
                "size": len(g.members),
                "members": list(g.members),
                "center": list(g.center),
                "representative": [
                    {
                        "statement": r.statement,
                        "text": bodies.get(r.statement, ""),
                        "direction": r.direction,
                        "repness": r.repness,
                        "repness_test": r.repness_test,
                        "agree_share": r.agree_share,
                        "disagree_share": r.disagree_share,
                        "votes": r.votes,
                        "best_agree": r.best_agree,
                    }
                    for r in g.representative
                ],
            }
            for g in analysis.groups
        ],
        "consensus": [
            {
                "statement": c.statement,
                "text": bodies.get(c.statement, ""),
                "direction": c.direction,
                "score": c.score,
            }
            for c in analysis.consensus
        ],
        "divisive": [
            {
                "statement": d.statement,
                "text": bodies.get(d.statement, ""),
                "score": d.score,
                "agree_by_group": list(d.agree_by_group),
            }
            for d in analysis.divisive
        ],
        "majority": [
            {
                "statement": m.statement,
                "text": bodies.get(m.statement, ""),
                "direction": m.direction,
                "probability": m.probability,
                "votes": m.votes,
            }
            for m in analysis.majority
        ],
    }
    recorded = export.recorded_groups()
    if compare and recorded:
        out["polis_groups"] = {
            "groups": len(set(recorded.values())),
            "adjusted_rand_index": adjusted_rand_index(analysis.group_of(), recorded),
        }
    return out


@app.command("analyze")
def analyze_command(
    folder: Path = typer.Argument(
        ..., help="A Polis export folder (openData CSVs, 2025 export, or a polis-math case)."
    ),
    min_votes: int = typer.Option(7, help="Votes a participant needs to be clustered."),
    max_groups: int = typer.Option(5, help="Largest number of opinion groups tried."),
    random_state: int = typer.Option(0, help="Seed for k-means."),
    exclude: str = typer.Option(
        "", help="Extra statement ids to exclude (comma-separated); moderated-out are excluded."
    ),
    continue_polis: bool = typer.Option(
        False,
        "--continue-polis",
        help="Start from the groups Polis recorded in the export (its last run), as Polis's "
        "next run would, instead of from scratch.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Find opinion groups, representative statements and consensus in a Polis export
    (no database needed)."""
    from stcoord.analytics.consensus import analyze
    from stcoord.consultation.polis_format import read_export, state_from_recorded_groups

    with friendly_errors(as_json):
        try:
            export = read_export(folder)
        except FileNotFoundError as exc:
            fail(str(exc))
        votes = export.analysis_votes()
        if not votes:
            fail(f"{folder}: no votes")
        excluded = set(export.excluded_statements()) | {
            s.strip() for s in exclude.split(",") if s.strip()
        }
        options: dict[str, Any] = {
            "excluded_statements": excluded,
            "min_votes": min_votes,
            "max_groups": max_groups,
            "random_state": random_state,
        }
        analysis = analyze(votes, **options)
        if continue_polis:
            if not export.recorded_groups():
                fail(f"{folder}: the export records no groups to continue from")
            state = state_from_recorded_groups(export, analysis)
            analysis = analyze(votes, previous=state, **options)
        result = analysis_as_dict(analysis, export)
    if as_json:
        emit_json(result)
        return
    typer.echo(
        f"{result['participants']} participants ({result['in_conversation']} clustered), "
        f"{result['statements']} statements, {len(result['groups'])} groups"
    )
    if "polis_groups" in result:
        pg = result["polis_groups"]
        typer.echo(
            f"Polis recorded {pg['groups']} groups; adjusted Rand index "
            f"{pg['adjusted_rand_index']:.3f}"
        )
    for g in result["groups"]:
        typer.echo(f"\ngroup {g['id']} ({g['size']} members)")
        emit_table(
            ["statement", "direction", "repness", "agree", "text"],
            [
                [
                    r["statement"],
                    r["direction"],
                    f"{r['repness']:.2f}",
                    f"{r['agree_share']:.0%}",
                    r["text"][:60],
                ]
                for r in g["representative"]
            ],
        )
    typer.echo("\nconsensus")
    emit_table(
        ["statement", "direction", "score", "text"],
        [
            [c["statement"], c["direction"], f"{c['score']:.3f}", c["text"][:60]]
            for c in result["consensus"]
        ],
    )


# ---------------------------------------------------------------- consultations in the database
# (``import``, ``list``, ``show``, ``dashboard``, ``dispositions``, ``answer``, ``export``,
# ``report``, ``delphi``): the office's commands; they act as the CLI user (cli/session.py).

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


@app.command("import")
def import_command(
    folder: Path = typer.Argument(..., help="A Polis export folder (openData CSVs)."),
    consultation: str = typer.Option(..., "--consultation", "-c", help="Consultation key."),
    sector: str = typer.Option("individual", help="Sector of the imported participants."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a Polis export into a consultation (one transaction; nothing on error)."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation.polis_format import read_export
    from stcoord.consultation.polis_import import import_export, import_summary

    with friendly_errors(as_json):
        try:
            export = read_export(folder)
        except FileNotFoundError as exc:
            fail(str(exc))
        with cli_scope(write=True) as session:
            result = import_summary(
                import_export(
                    session, cli_actor(session), key=consultation, export=export, sector=sector
                )
            )
    if as_json:
        emit_json(result)
        return
    typer.echo(
        f"imported into {consultation}: {result['participants']} participants, "
        f"{result['statements']} statements ({result['hidden']} moderated out), "
        f"{result['votes']} votes"
    )


@app.command("list")
def list_command(
    plan: str = typer.Option(None, "--plan", help="Only this plan's consultations."),
    status: str = typer.Option(None, "--status", help="open or closed"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Consultations with their participants, comments (unanswered) and votes."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import schemas, service

    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows = [
            schemas.consultation_row(r)
            for r in service.list_consultations(
                session, cli_actor(session), plan_key=plan, status=status
            )
        ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("No consultations yet.")
        return
    emit_table(
        ["key", "kind", "status", "plan/stage", "people", "comments", "unanswered", "votes"],
        [
            [
                r["key"],
                r["kind"],
                r["status"],
                f"{r['plan']}/{r['stage']}",
                r["participants"],
                r["comments"],
                r["unanswered"],
                r["votes"],
            ]
            for r in rows
        ],
    )


@app.command("show")
def show_command(key: str, as_json: bool = JSON_OPTION) -> None:
    """One consultation: its plan stage, channels, dates and statements."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import schemas, service

    with friendly_errors(as_json), cli_scope(write=False) as session:
        actor = cli_actor(session)
        c = service.get_consultation(session, actor, key)
        plan_key, stage = service.stage_of(session, c)
        view = schemas.consultation_view(c, plan_key, stage.key)
        view["statements"] = [
            schemas.statement_row(r)
            for r in service.list_statements(session, actor, key=key, include_hidden=True)
        ]
    if as_json:
        emit_json(view)
        return
    typer.echo(f"{view['title']} [{key}] {view['kind']}, {view['status']}")
    typer.echo(
        f"plan {view['plan']}, stage {view['stage']}; channels {', '.join(view['channels'])}"
    )
    emit_table(
        ["#", "agree", "disagree", "pass", "hidden", "text"],
        [
            [
                s["number"],
                s["agree"],
                s["disagree"],
                s["pass"],
                "yes" if s["hidden"] else "",
                s["text"][:60],
            ]
            for s in view["statements"]
        ],
    )


@app.command("dashboard")
def dashboard_command(key: str, as_json: bool = JSON_OPTION) -> None:
    """Who was heard against the stage's channels, the gate, opinion groups and consensus."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import dashboard

    with friendly_errors(as_json), cli_scope(write=False) as session:
        d = dashboard.dashboard_json(dashboard.dashboard(session, cli_actor(session), key))
    if as_json:
        emit_json(d)
        return
    typer.echo(f"{d['title']} [{key}] plan {d['plan']}, stage {d['stage']}")
    emit_table(
        ["sector", "participants", "comments", "statements", "voters"],
        [
            [h["sector"], h["participants"], h["comments"], h["statements"], h["voters"]]
            for h in d["heard"]
        ],
    )
    typer.echo("")
    emit_table(
        ["channel", "required", "heard"],
        [
            [c["channel"], "yes" if c["required"] else "", "yes" if c["heard"] else "no"]
            for c in d["channels"]
        ],
    )
    c = d["comments"]
    typer.echo(f"\ncomments: {c['total']} ({c['unanswered']} without a disposition)")
    for u in d["gate"]:
        typer.echo(f"gate: {u['message']}")
    a = d["analysis"]
    if a["message"]:
        typer.echo(a["message"])
    for g in a["groups"]:
        typer.echo(f"\ngroup {g['label']} ({g['size']} participants)")
        for r in g["representative"]:
            typer.echo(f"  {r['direction']:8} #{r['statement']} {r['text'][:70]}")
    if a["consensus"]:
        typer.echo("\nconsensus")
        for s in a["consensus"]:
            typer.echo(f"  {s['direction']:8} #{s['statement']} {s['text'][:70]}")


@app.command("dispositions")
def dispositions_command(
    key: str,
    unanswered: bool = typer.Option(False, "--unanswered", help="Only comments not answered."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Each comment with its disposition and reason."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import schemas, service

    with friendly_errors(as_json), cli_scope(write=False) as session:
        rows = [
            schemas.comment_row(r)
            for r in service.list_comments(
                session, cli_actor(session), key=key, answered=False if unanswered else None
            )
        ]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["id", "section", "sector", "outcome", "comment", "reason"],
        [
            [
                r["id"],
                r["section"] or "",
                r["sector"],
                r["outcome"] or "-",
                r["text"][:40],
                (r["reason"] or "")[:40],
            ]
            for r in rows
        ],
    )


@app.command("open")
def open_command(
    key: str = typer.Argument(..., help="A key for the new consultation."),
    plan: str = typer.Option(..., "--plan", "-p", help="Plan key."),
    kind: str = typer.Option(
        ..., help="public_comment, rfi, expert_panel, delphi or conversation."
    ),
    title: str = typer.Option(..., help="Title shown to participants."),
    stage: str | None = typer.Option(None, help="Stage key (default: the plan's open stage)."),
    channel: list[str] = typer.Option(
        [], "--channel", help="A channel it counts for (repeat; default: the stage's)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a consultation on a stage of a plan."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import service

    with friendly_errors(as_json), cli_scope(write=True) as session:
        c = service.create_consultation(
            session,
            cli_actor(session),
            key=key,
            plan_key=plan,
            kind=kind,
            title=title,
            stage_key=stage,
            channels=channel or None,
        )
        result = service.snapshot(c)
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"consultation {key} opened ({kind})")


@app.command("answer")
def answer_command(
    key: str,
    comment: int = typer.Argument(..., help="Comment id."),
    outcome: str = typer.Option(..., help="adopted, partly_adopted, not_adopted, out_of_scope"),
    reason: str = typer.Option(..., help="The reason given to the commenter."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the official disposition of a comment."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import service

    with friendly_errors(as_json), cli_scope(write=True) as session:
        d = service.answer_comment(
            session, cli_actor(session), key=key, comment_id=comment, outcome=outcome, reason=reason
        )
        result = {"comment": comment, "outcome": d.outcome, "reason": d.reason}
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"comment {comment}: {result['outcome']}")


@app.command("export")
def export_command(
    key: str,
    folder: Path = typer.Argument(..., help="Folder to write the Polis CSV files into."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the consultation's statements, votes and opinion groups in Polis's formats."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation.polis_import import export_polis

    with friendly_errors(as_json), cli_scope(write=False) as session:
        paths = export_polis(session, cli_actor(session), key=key, directory=folder)
    files = {k: str(p) for k, p in paths.items()}
    if as_json:
        emit_json(files)
    else:
        for path in files.values():
            typer.echo(path)


@app.command("report")
def report_command(
    key: str,
    kind: str = typer.Option("summary", help="summary or result (the result of comments)."),
    out: Path = typer.Option(..., "--out", "-o", help="PDF (or .html) file to write."),
    lang: str = typer.Option("en", help="en, zh or ja"),
) -> None:
    """Write the consultation summary or the result-of-comments report as PDF or HTML."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import pages

    if kind not in ("summary", "result"):
        fail("--kind must be summary or result")
    with friendly_errors(), cli_scope(write=False) as session:
        html = pages.report_html(session, cli_actor(session), key, kind, lang)
    if out.suffix.lower() == ".html":
        out.write_text(html, encoding="utf-8")
    else:
        from stcoord.reports.pdf import html_to_pdf

        out.write_bytes(html_to_pdf(html))
    typer.echo(str(out))


@app.command("delphi")
def delphi_command(
    key: str,
    action: str = typer.Argument("status", help="status, open (a round) or close (the round)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """A Delphi survey's rounds (IQR, Kendall's W, convergence); open or close a round."""
    from stcoord.cli.session import cli_actor, cli_scope
    from stcoord.consultation import delphi

    if action not in ("status", "open", "close"):
        fail("action must be status, open or close")
    with friendly_errors(as_json), cli_scope(write=action != "status") as session:
        actor = cli_actor(session)
        if action == "open":
            delphi.open_round(session, actor, key=key)
        elif action == "close":
            delphi.close_round(session, actor, key=key)
        result = delphi.state_json(delphi.state(session, actor, key=key))
    if as_json:
        emit_json(result)
        return
    typer.echo(
        f"{key}: {result['finished'] or 'running'}; open round {result['open_round'] or '-'}"
    )
    emit_table(
        ["round", "status", "raters", "kendalls_w", "converged"],
        [
            [
                r["round"],
                r["status"],
                r["raters"] or "",
                r["kendalls_w"] if r["kendalls_w"] is not None else "",
                r["converged"] if r["converged"] is not None else "",
            ]
            for r in result["rounds"]
        ],
    )
