"""``stcoord portfolio ...``: import, screen (a file or the stored portfolio), pairs, verdicts,
researcher checks and the topic landscape."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from stcoord.analytics.similarity import DEFAULT_THRESHOLD
from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors
from stcoord.cli.session import cli_actor, cli_scope
from stcoord.portfolio import adjudication, landscape, researchers, screening
from stcoord.portfolio.imports import import_projects, records_of
from stcoord.portfolio.mapping import get_mapping
from stcoord.portfolio.projects import PAIR_EXPORT_HEADERS, pair_export_rows
from stcoord.tabular import format_of, write_table

app = typer.Typer(
    help="Portfolio screening: projects, overlap screens, adjudication, researcher checks.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _list(text: str | None) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


@app.command("import")
def import_command(
    path: Path,
    mapping: str = typer.Option(
        None, "--mapping", "-m", help="A shipped mapping key or a mapping file (default: detect)."
    ),
    source: str = typer.Option(None, "--source", help="Source name stored on the projects."),
    as_json: bool = JSON,
) -> None:
    """Import projects from a JSONL, CSV or XLSX file (all or nothing; re-import updates)."""
    if not path.is_file():
        fail(f"cannot read {path}")
    with friendly_errors(as_json), cli_scope(write=True) as session, path.open("rb") as stream:
        result = import_projects(
            session,
            cli_actor(session),
            stream=stream,
            filename=path.name,
            mapping=get_mapping(mapping) if mapping else None,
            source=source,
        )
    if as_json:
        emit_json(result.as_dict())
    else:
        typer.echo(
            f"{result.source} ({result.mapping}): {result.rows} rows; {result.created} new, "
            f"{result.updated} updated, {result.unchanged} unchanged; "
            f"{result.investigators_created} new investigators"
        )


def _progress_bar(label: str) -> tuple[Any, Any]:
    bar = typer.progressbar(length=1, label=label, file=None)
    state = {"started": False}

    def update(done: int, total: int) -> None:
        if not state["started"]:
            bar.length = total
            bar.__enter__()
            state["started"] = True
        bar.update(done - bar.pos)

    def close() -> None:
        if state["started"]:
            bar.__exit__(None, None, None)

    return update, close


@app.command("screen")
def screen_command(
    path: Path = typer.Argument(
        None, help="Screen this file directly, without a database (JSONL, CSV, XLSX)."
    ),
    threshold: float = typer.Option(DEFAULT_THRESHOLD, "--threshold", "-t"),
    representation: str = typer.Option("auto", "--representation", help="auto, word, char, dense"),
    method: str = typer.Option("auto", "--method", help="auto, exact, ann"),
    mapping: str = typer.Option(None, "--mapping", "-m"),
    run: int = typer.Option(None, "--run", help="Print the pairs of a stored run."),
    resume: int = typer.Option(None, "--resume", help="Resume a stopped run from its checkpoint."),
    new: bool = typer.Option(False, "--new", help="Run a new screen over the stored portfolio."),
    batch: str = typer.Option(
        None, "--batch", help="Screen the projects of this source against the portfolio."
    ),
    base_run: int = typer.Option(None, "--base-run", help="The run a --batch is compared with."),
    sources: str = typer.Option(None, "--sources", help="Scope: comma-separated sources."),
    agencies: str = typer.Option(None, "--agencies", help="Scope: comma-separated agency codes."),
    chunk_size: int = typer.Option(screening.DEFAULT_CHUNK, "--chunk-size"),
    as_json: bool = JSON,
) -> None:
    """Screen for similar projects. ``screen FILE`` works on a file alone and prints each pair's
    two IDs and score; ``--new`` (or ``--batch``) screens the stored portfolio with a progress
    bar; ``--run N`` prints a stored run's pairs in the same form as the file path."""
    if path is not None:
        if not path.is_file():
            fail(f"cannot read {path}")
        with friendly_errors(as_json), path.open("rb") as stream:
            records = records_of(stream, path.name, get_mapping(mapping) if mapping else None)
            pairs = screening.screen_records(
                records, threshold=threshold, representation=representation, method=method
            )
        _print_pairs(pairs, as_json)
        return
    if run is not None:
        with friendly_errors(as_json), cli_scope(write=False) as session:
            pairs = screening.stored_pairs(session, cli_actor(session), run)
        _print_pairs(pairs, as_json)
        return
    from stcoord.db.session import get_database

    with friendly_errors(as_json):
        with cli_scope(write=True) as session:
            actor = cli_actor(session)
            if resume is not None:
                run_id = screening.get_run(session, actor, resume).id
            elif batch:
                run_id = screening.create_batch_run(
                    session,
                    actor,
                    batch_source=batch,
                    base_run_id=base_run,
                    threshold=threshold if threshold != DEFAULT_THRESHOLD else None,
                ).id
            elif new:
                run_id = screening.create_run(
                    session,
                    actor,
                    representation=representation,
                    threshold=threshold,
                    method=method,
                    agencies=_list(agencies),
                    sources=_list(sources),
                    chunk_size=chunk_size,
                ).id
            else:
                fail("give a FILE, --new, --batch SOURCE, --resume RUN or --run RUN")
        update, close = _progress_bar(f"screen run {run_id}")
        try:
            screening.execute_run(
                get_database(), actor, run_id, progress=None if as_json else update
            )
        finally:
            close()
        with cli_scope(write=False) as session:
            current = screening.get_run(session, actor, run_id)
            summary = screening.run_dict(current)
    if as_json:
        emit_json(summary)
    else:
        typer.echo(
            f"run {summary['id']}: {summary['status']}, {summary['pair_count']} pairs "
            f"(stcoord portfolio pairs --run {summary['id']})"
        )


def _print_pairs(pairs: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json(pairs)
    else:
        emit_table(["left", "right", "score"], [[p["left"], p["right"], p["score"]] for p in pairs])


@app.command("pairs")
def pairs_command(
    run: int = typer.Option(None, "--run"),
    min_score: float = typer.Option(None, "--min-score"),
    cross_agency: bool = typer.Option(None, "--cross-agency/--same-agency"),
    shared: bool = typer.Option(None, "--shared/--no-shared"),
    verdict: str = typer.Option(None, "--verdict", help="a label, none or any"),
    limit: int = typer.Option(50, "--limit"),
    offset: int = typer.Option(0, "--offset"),
    output: Path = typer.Option(None, "--output", "-o", help="Write every pair to .csv/.xlsx."),
    as_json: bool = JSON,
) -> None:
    """Candidate pairs with filters, highest score first."""
    flt = screening.PairFilter(
        run_id=run,
        min_score=min_score,
        cross_agency=cross_agency,
        shared_investigators=shared,
        verdict=verdict,
    )
    with friendly_errors(as_json), cli_scope(write=False) as session:
        actor = cli_actor(session)
        if output is not None:
            rows, total = screening.list_pairs(session, actor, flt, limit=None)
            output.write_bytes(
                write_table(
                    PAIR_EXPORT_HEADERS, pair_export_rows(session, rows), format_of(output.name)
                )
            )
            typer.echo(f"wrote {total} pairs to {output}")
            return
        rows, total = screening.list_pairs(session, actor, flt, limit=limit, offset=offset)
        table = pair_export_rows(session, rows)
    items = [dict(zip(PAIR_EXPORT_HEADERS, r, strict=True)) for r in table]
    if as_json:
        emit_json({"items": items, "total": total, "limit": limit, "offset": offset})
    else:
        emit_table(
            ["pair", "score", "left", "right", "cross", "shared", "verdict"],
            [
                [
                    i["pair"],
                    i["score"],
                    i["left_id"],
                    i["right_id"],
                    i["cross_agency"],
                    i["shared_investigators"],
                    i["verdict"],
                ]
                for i in items
            ],
        )


@app.command("verdict")
def verdict_command(
    pair: int,
    label: str,
    comment: str = typer.Option("", "--comment", "-c"),
    as_json: bool = JSON,
) -> None:
    """Record a verdict (duplication, overlap, fragmentation, complementary, unrelated)."""
    with friendly_errors(as_json), cli_scope(write=True) as session:
        p = adjudication.record_verdict(
            session, cli_actor(session), pair_id=pair, label=label, comment=comment
        )
        out = {"id": p.id, "verdict": p.verdict, "comment": p.verdict_comment, "version": p.version}
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"pair {out['id']}: {out['verdict']}")


@app.command("precision")
def precision_command(
    run: int = typer.Option(None, "--run"),
    by: str = typer.Option("week", "--by"),
    as_json: bool = JSON,
) -> None:
    """Precision per run and over time from the verdicts."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        report = adjudication.precision(session, cli_actor(session), run_id=run, by=by)
    rows = [{"run": r.run_id, **r.tally.as_dict()} for r in report.runs]
    if as_json:
        emit_json(
            {
                "runs": rows,
                "over_time": [
                    {
                        "period": p.period,
                        "adjudicated": p.adjudicated,
                        "confirmed": p.confirmed,
                        "cumulative": p.cumulative.as_dict(),
                    }
                    for p in report.over_time
                ],
                "total": report.total.as_dict(),
            }
        )
    else:
        emit_table(
            ["run", "flagged", "adjudicated", "confirmed", "precision"],
            [
                [r["run"], r["flagged"], r["adjudicated"], r["confirmed"], r["precision"]]
                for r in rows
            ],
        )


@app.command("checks")
def checks_command(
    run: int = typer.Option(None, "--run", help="Screen run for the funded-twice check."),
    threshold: str = typer.Option(None, "--threshold", help="Concurrent funding threshold."),
    currency: str = typer.Option(None, "--currency"),
    set_threshold: str = typer.Option(
        None, "--set-threshold", help="Store the office's threshold."
    ),
    all_agencies: bool = typer.Option(False, "--all-agencies", help="Also pairs in one agency."),
    as_json: bool = JSON,
) -> None:
    """Researcher checks: funded twice for similar work, and concurrent funding over a threshold."""
    with friendly_errors(as_json), cli_scope(write=set_threshold is not None) as session:
        actor = cli_actor(session)
        if set_threshold is not None:
            researchers.set_threshold(
                session, actor, amount=set_threshold, currency=currency or "USD"
            )
        twice = (
            researchers.funded_twice(session, actor, run_id=run, cross_agency_only=not all_agencies)
            if run is not None
            else []
        )
        limit, cur, heavy = researchers.concurrent_funding(
            session, actor, threshold=threshold, currency=currency
        )
    out = {
        "funded_twice": [asdict(t) for t in twice],
        "concurrent": {"threshold": limit, "currency": cur, "items": [asdict(c) for c in heavy]},
    }
    if as_json:
        emit_json(out)
        return
    typer.echo(f"funded twice (run {run}): {len(twice)}")
    for t in twice:
        typer.echo(f"  {t.investigator}: pair {t.pair_id} score {t.score:.3f}")
    typer.echo(f"concurrent funding above {limit} {cur}: {len(heavy)}")
    for c in heavy:
        typer.echo(f"  {c.investigator}: {c.peak} on {c.peak_day} ({len(c.projects)} projects)")


@app.command("landscape")
def landscape_command(
    n_topics: int = typer.Option(None, "--topics"),
    sources: str = typer.Option(None, "--sources"),
    jurisdiction: str = typer.Option("US", "--jurisdiction", "-j"),
    priorities: str = typer.Option(None, "--priorities", help="A budget priority set key."),
    as_json: bool = JSON,
) -> None:
    """Topics with agencies, Herfindahl and money; money by strategic field against priorities."""
    with friendly_errors(as_json), cli_scope(write=False) as session:
        view = landscape.build(
            session,
            cli_actor(session),
            n_topics=n_topics,
            sources=_list(sources),
            jurisdiction=jurisdiction.upper(),
            priority_set=priorities,
        )
    data = landscape.as_json(view)
    if as_json:
        emit_json(data)
        return
    emit_table(
        ["topic", "projects", "money", "agencies", "herfindahl"],
        [
            [
                f"{t['index']}: {', '.join(t['terms'][:4])}",
                t["projects"],
                round(t["money"]),
                t["agencies"],
                None if t["herfindahl"] is None else round(t["herfindahl"], 3),
            ]
            for t in data["topics"]
        ],
    )
    typer.echo(f"weights: {data['weights_from']}")
    emit_table(
        ["field", "money", "share", "weight", "gap"],
        [
            [
                f["key"],
                round(f["money"]),
                round(f["share"], 3),
                round(f["weight"], 3),
                round(f["gap"], 3),
            ]
            for f in data["fields"]
        ],
    )
