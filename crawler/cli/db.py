"""`linkwatch db`: apply and list schema migrations, check integrity, replay spilled batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg

from crawler.config import get_config

DB_HELP = "PostgreSQL URL (default: LINKWATCH_DATABASE_URL or the embedded server)."


def _url(database_url: str | None) -> str:
    from pipelines.db import DatabaseError
    from pipelines.db import database_url as resolve

    if database_url:
        return database_url
    try:
        return resolve()
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _errors() -> Iterator[None]:
    """Turns database and migration failures into one-sentence ClickExceptions."""
    from pipelines.db import DatabaseError
    from pipelines.migrate import MigrationError

    try:
        yield
    except (DatabaseError, MigrationError) as exc:
        raise click.ClickException(str(exc)) from exc
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise click.ClickException(f"cannot use PostgreSQL ({first})") from exc
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise click.ClickException(f"PostgreSQL refused the operation ({first})") from exc


@click.group()
def db() -> None:
    """Manage the linkwatch database: migrations, integrity and spilled batches."""


@db.command()
@click.option("--dry-run", is_flag=True, help="List the migrations that would be applied; change nothing.")
@click.option("--database-url", help=DB_HELP)
def migrate(dry_run: bool, database_url: str | None) -> None:
    """Apply pending migrations (sql/migrations) in order, then (re)create the views."""
    from pipelines.db import connect
    from pipelines.migrate import migrate as run_migrations
    from pipelines.migrate import pending

    url = _url(database_url)
    with _errors():
        if dry_run:
            with connect(url, autocommit=True) as conn:
                todo = pending(conn)
            for m in todo:
                click.echo(f"would apply {m.name}")
            click.echo(f"{len(todo)} migration(s) pending" if todo else "database is up to date")
            return
        done = run_migrations(url)
    for name in done:
        click.echo(f"applied {name}")
    click.echo(f"{len(done)} migration(s) applied" if done else "database is up to date")


@db.command()
@click.option("--database-url", help=DB_HELP)
def status(database_url: str | None) -> None:
    """List every migration with the date it was applied, or `pending`."""
    from pipelines.db import connect
    from pipelines.migrate import status as migration_status

    url = _url(database_url)
    with _errors(), connect(url, autocommit=True) as conn:
        states = migration_status(conn)
    pending = 0
    for s in states:
        if s.applied_at is None:
            pending += 1
            click.echo(f"{s.migration.name}  pending")
        else:
            click.echo(f"{s.migration.name}  applied {s.applied_at:%Y-%m-%d %H:%M:%S %Z}")
    click.echo(f"{len(states) - pending} applied, {pending} pending")
    if pending:
        click.echo("run `linkwatch db migrate` to apply them", err=True)


@db.command()
@click.option("--database-url", help=DB_HELP)
def check(database_url: str | None) -> None:
    """Count sightings whose link or page was deleted by hand (exit 1 if any).

    Sightings have no foreign keys (they cost half the store's throughput); the store keeps them
    consistent by construction, so only a manual DELETE in psql can leave one behind. It reads every
    sighting: seconds at millions of rows.
    """
    from pipelines.db import connect, load_query, require_migrated
    from pipelines.text_index import queued

    url = _url(database_url)
    with _errors(), connect(url, autocommit=True) as conn:
        require_migrated(conn)
        without_link, without_page = conn.execute(load_query("db", "orphans")).fetchone()
        waiting = queued(conn)
    if waiting:
        # Not an error: --text reads queued sightings directly until they are copied.
        click.echo(f"{waiting} stored batch(es) wait for the context search copy; the next crawl or "
                   "`linkwatch db replay` copies them")
    if without_link or without_page:
        raise click.ClickException(
            f"{without_link} sighting(s) without their link, {without_page} without their page "
            "(deleted by hand; the sightings themselves are kept)")
    click.echo("integrity ok: every sighting has its link and its page")


@db.command()
@click.option("--database-url", help=DB_HELP)
def replay(database_url: str | None) -> None:
    """Store the batches spilled to <data dir>/spill while PostgreSQL was unreachable.

    Also finishes the context search copy (`--text`) for sightings a crawl stopped before copying.
    """
    from pipelines.db import connect, require_migrated
    from pipelines.spill import pending_spills, replay_spills
    from pipelines.store import StoreResult
    from pipelines.text_index import index_pending

    data_dir = get_config().data_dir
    files = pending_spills(data_dir)
    url = _url(database_url)
    if not files:
        click.echo(f"no spilled batches in {data_dir / 'spill'}")
    else:
        click.echo(f"replaying {len(files)} spilled batch(es) from {data_dir / 'spill'}", err=True)
    with _errors(), connect(url, autocommit=True) as conn:
        require_migrated(conn)
        results = replay_spills(conn, data_dir) if files else []
        copied = index_pending(conn)
    if copied:
        click.echo(f"copied {copied} queued sighting range(s) into the context search copy")
    if not files:
        return
    total = StoreResult()
    for r in results:
        total += r
    left = pending_spills(data_dir)
    click.echo(
        f"replayed {len(results)} batch(es): {total.pages} pages, {total.links_new} new links, "
        f"{total.sightings_new} new sightings"
    )
    if left:
        raise click.ClickException(f"{len(left)} spill file(s) still wait (another process holds them)")
