"""The ``stcoord`` command: one sub-app per domain."""

from __future__ import annotations

from pathlib import Path

import typer

from stcoord.advisory.cli import app as advisory_app
from stcoord.auth.cli import token_app, user_app
from stcoord.budget.cli import app as budget_app
from stcoord.cli.output import emit_json
from stcoord.config import get_settings
from stcoord.consultation.cli import app as consult_app
from stcoord.institutions.cli import app as mechanism_app
from stcoord.plans.cli import app as plan_app
from stcoord.portfolio.cli import app as portfolio_app

app = typer.Typer(help="stcoord: macro-level S&T coordination.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(mechanism_app, name="mechanism")
app.add_typer(plan_app, name="plan")
app.add_typer(budget_app, name="budget")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(advisory_app, name="advisory")
app.add_typer(consult_app, name="consult")
app.add_typer(portfolio_app, name="portfolio")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create or upgrade the schema of STCOORD_DATABASE_URL (default: var/stcoord.db)."""
    from stcoord.db.migrate import current_revision, upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"database at revision {current_revision(url)}")


@db_app.command("current")
def db_current() -> None:
    from stcoord.db.migrate import current_revision

    typer.echo(current_revision(get_settings().database_url) or "empty")


@app.command("seed")
def seed_command(
    demo_users: bool = typer.Option(
        False, "--demo-users", help="Also create demo accounts (password demo-password)."
    ),
    demo_data: bool = typer.Option(
        False,
        "--demo-data",
        help="Also load demo data: NSF awards with a finished screen, consultations (one with "
        "a real Polis conversation) and an advisory report.",
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Shared data folder the demo data's NSF awards and Polis conversation are read "
        "from (default: STCOORD_DATA_DIR, else ../shared/data); a missing file skips that part.",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load the reference mechanisms (US, JP, CN) and demo data; running it twice is a no-op."""
    from stcoord.cli.output import friendly_errors
    from stcoord.db.session import session_scope
    from stcoord.seed import seed

    with friendly_errors(as_json), session_scope(write=True) as session:
        result = seed(session, demo_users=demo_users, demo_data=demo_data, data_dir=data_dir)
    if as_json:
        emit_json(result)
        return
    for r in result.mechanisms:
        state = "created" if r.created else ("updated" if r.changed else "unchanged")
        typer.echo(f"mechanism {r.code}: {state}")
    for key in result.plans_created:
        typer.echo(f"plan {key}: replayed through its procedure")
    for key in result.classifications_created:
        typer.echo(f"classification {key}: created")
    for name in result.users_created:
        typer.echo(f"demo user {name} created (password: demo-password)")
    for line in result.demo_created:
        typer.echo(f"demo data: {line}")
    for line in result.demo_skipped:
        typer.echo(f"demo data: {line}")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1),
) -> None:
    """Serve the web app and API."""
    import uvicorn

    uvicorn.run(
        "stcoord.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
    )


if __name__ == "__main__":
    app()
