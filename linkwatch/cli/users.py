"""`linkwatch users`: the people who may use the web console and API (add, list, disable, enable, password,
token)."""

from __future__ import annotations

import sys

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.params import CSV, JSON, JSONL, TEXT, format_option
from linkwatch.text import for_terminal

ROLE_HELP = ("investigator: search, link pages, evidence, downloads; analyst: also triage, sources and "
             "runs; regulator: referrals and the links in them; admin: users and the audit log, and "
             "everything else.")


def read_password() -> str:
    """The new password: asked twice on a terminal, else one line of standard input (like passwd --stdin)."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    line = sys.stdin.readline()
    if not line.strip():
        raise click.UsageError("no password on standard input (give it as one line)")
    return line.rstrip("\r\n")


@click.group()
def users() -> None:
    """Users of the web console and API: who they are, their role, their API tokens.

    Each user logs in to `linkwatch serve` with a name and password; the name is what the audit log
    and reviews record. Passwords are stored as argon2id hashes, API tokens as sha256 digests.
    """


@users.command()
@click.argument("name")
@click.option("--role", type=click.Choice(["investigator", "analyst", "regulator", "admin"]), required=True,
              help=ROLE_HELP)
@pass_app
def add(app: App, name: str, role: str) -> None:
    """Add a user (password: asked twice on a terminal, else read from one line of stdin)."""
    from linkwatch.db.audit import audit, identity
    from linkwatch.db.users import add_user, check_name, check_role

    check_name(name)
    check_role(role)
    password = read_password()
    with app.open_database() as conn:
        user = add_user(conn, name, role, password)
        audit(conn, identity(conn), "user_add", user.name, {"role": role, "via": "cli"})
    click.echo(f"added {user.name} ({user.role}); they can log in to `linkwatch serve` now")


@users.command(name="list")
@format_option(TEXT, JSON, JSONL, CSV)
@pass_app
def list_(app: App, fmt: str) -> None:
    """List users with their role, state, last login and live API tokens."""
    from linkwatch.cli.output import emit, local
    from linkwatch.db.users import list_users

    with app.open_database() as conn:
        rows = [{k: v for k, v in row.items() if k != "id"} for row in list_users(conn)]
    tz = app.config.zone

    def table(rows: list[dict]) -> None:
        if not rows:
            click.echo("no users yet; add one with `linkwatch users add NAME --role admin`")
            return
        click.echo(f"{'name':<24}{'role':<14}{'state':<10}{'last login':<18}{'tokens':>7}")
        for row in rows:
            state = "disabled" if row["disabled_at"] else "active"
            last = local(row["last_login_at"], tz, "%Y-%m-%d %H:%M") if row["last_login_at"] else "never"
            click.echo(f"{for_terminal(row['name'], one_line=True):<24}{row['role']:<14}{state:<10}"
                       f"{last:<18}{row['tokens']:>7}")

    emit(rows, fmt, tz, text=table)


@users.command()
@click.argument("name")
@pass_app
def disable(app: App, name: str) -> None:
    """Disable a user: their sessions end and their API tokens stop working at once."""
    click.echo(f"disabled {_set_disabled(app, name, True)}; their sessions and API tokens no longer work")


@users.command()
@click.argument("name")
@pass_app
def enable(app: App, name: str) -> None:
    """Enable a disabled user again (their old API tokens stay revoked)."""
    click.echo(f"enabled {_set_disabled(app, name, False)}")


def _set_disabled(app: App, name: str, disabled: bool) -> str:
    """Disables or enables the user, audited; returns the name as stored."""
    from linkwatch.db.audit import audit, identity
    from linkwatch.db.users import set_disabled

    with app.open_database() as conn:
        set_disabled(conn, name, disabled)
        action = "user_disable" if disabled else "user_enable"
        audit(conn, identity(conn), action, name.strip().lower(), {"via": "cli"})
    return name.strip().lower()


@users.command()
@click.argument("name")
@pass_app
def password(app: App, name: str) -> None:
    """Set a user's password (asked twice on a terminal, else one line of stdin); ends their sessions."""
    from linkwatch.db.audit import audit, identity
    from linkwatch.db.users import get_user, set_password

    with app.open_database() as conn:
        get_user(conn, name)  # an unknown name fails before the password is asked
        set_password(conn, name, read_password())
        audit(conn, identity(conn), "user_password", name.strip().lower(), {"via": "cli"})
    click.echo(f"password of {name.strip().lower()} changed; their sessions ended")


@users.command()
@click.argument("name")
@pass_app
def token(app: App, name: str) -> None:
    """Issue an API token for a user, printed once as the last word (only its hash is kept).

    Use it as `Authorization: Bearer TOKEN`; it carries the user's role. Disabling the user revokes it.
    """
    from linkwatch.db.audit import audit, identity
    from linkwatch.db.users import create_token, get_user

    with app.open_database() as conn:
        user = get_user(conn, name)
        value = create_token(conn, user.name)
        audit(conn, identity(conn), "token_add", user.name, {"prefix": value[:10], "via": "cli"})
    click.echo(f"API token for {user.name} ({user.role}), shown once, store it now: {value}")
