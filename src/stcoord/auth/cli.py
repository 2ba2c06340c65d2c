"""``stcoord user ...`` and ``stcoord token ...``."""

from __future__ import annotations

import getpass

import typer
from sqlalchemy import select

from stcoord.auth import service
from stcoord.auth.permissions import Role
from stcoord.cli.output import emit_json, emit_table, fail, friendly_errors
from stcoord.cli.session import cli_actor, cli_scope
from stcoord.institutions.models import Body, Jurisdiction

user_app = typer.Typer(help="Local accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


@user_app.command("create")
def create_user(
    username: str,
    role: Role = typer.Option(Role.admin, "--role", help="admin, coordinator, liaison, ..."),
    password: str = typer.Option(
        None, "--password", envvar="STCOORD_NEW_PASSWORD", help="Password (prompted when omitted)."
    ),
    body: list[str] = typer.Option(
        None, "--body", help="Body a liaison represents, as CODE:key (repeatable)."
    ),
    display_name: str = typer.Option("", "--name"),
) -> None:
    """Create an account (the first admin, typically)."""
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            fail("the passwords differ")
    with friendly_errors(), cli_scope(write=True) as session:
        body_ids = []
        for ref in body or []:
            code, _, key = ref.partition(":")
            body_id = session.scalar(
                select(Body.id)
                .join(Jurisdiction)
                .where(Jurisdiction.code == code.upper(), Body.key == key)
            )
            if body_id is None:
                fail(f"no body {ref!r} (use CODE:key, e.g. JP:mext)")
            body_ids.append(body_id)
        user = service.create_user(
            session,
            cli_actor(session),
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            body_ids=body_ids,
        )
        typer.echo(f"created {user.role} {user.username}")


@user_app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json")) -> None:
    with friendly_errors(as_json), cli_scope(write=False) as session:
        users = [service.user_snapshot(u) for u in service.list_users(session, cli_actor(session))]
    if as_json:
        emit_json(users)
    else:
        emit_table(
            ["username", "role", "active"],
            [[u["username"], u["role"], u["is_active"]] for u in users],
        )


@token_app.command("create")
def create_token(name: str = typer.Option(..., "--name", help="What the token is for.")) -> None:
    """Issue an API token for the user named by STCOORD_CLI_USER (shown once)."""
    with friendly_errors(), cli_scope(write=True) as session:
        actor = cli_actor(session)
        if actor.user_id is None:
            fail("set STCOORD_CLI_USER to the account the token belongs to")
        issued = service.create_token(session, actor, name=name)
    typer.echo(issued.token)
