"""`linkwatch db`: apply and list schema migrations, check integrity, replay spilled batches."""

from __future__ import annotations

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import stamp


@click.group()
def db() -> None:
    """Manage the linkwatch database: migrations, integrity and spilled batches."""


@db.command()
@click.option("--dry-run", is_flag=True, help="List the migrations that would be applied; change nothing.")
@pass_app
def migrate(app: App, dry_run: bool) -> None:
    """Apply pending migrations (sql/migrations) in order, then (re)create the views."""
    from linkwatch.db.migrate import migrate as run_migrations
    from linkwatch.db.migrate import pending_at

    url = app.database_url()
    if dry_run:
        todo = pending_at(url)
        for m in todo:
            click.echo(f"would apply {m.name}")
        click.echo(f"{len(todo)} migration(s) pending" if todo else "database is up to date")
        return
    done = run_migrations(url)
    for name in done:
        click.echo(f"applied {name}")
    click.echo(f"{len(done)} migration(s) applied" if done else "database is up to date")


@db.command()
@pass_app
def status(app: App) -> None:
    """List every migration with the date it was applied, or `pending`."""
    from linkwatch.db.migrate import status_at

    states = status_at(app.database_url())
    pending = 0
    for s in states:
        if s.applied_at is None:
            pending += 1
            click.echo(f"{s.migration.name}  pending")
        else:
            click.echo(f"{s.migration.name}  applied {stamp(s.applied_at, app.config.zone)}")
    click.echo(f"{len(states) - pending} applied, {pending} pending")
    if pending:
        click.echo("run `linkwatch db migrate` to apply them", err=True)


@db.command()
@pass_app
def check(app: App) -> None:
    """Count sightings whose link or page was deleted by hand (exit 1 if any).

    Sightings have no foreign keys (they cost half the store's throughput); the store keeps them
    consistent by construction, so only a manual DELETE in psql can leave one behind. It reads every
    sighting: seconds at millions of rows.
    """
    from linkwatch.db.integrity import check_integrity

    with app.open_database() as conn:
        report = check_integrity(conn)
    if report.queued_ranges:
        # Not an error: --text reads queued sightings directly until they are copied.
        click.echo(f"{report.queued_ranges} stored batch(es) wait for the context search copy; the next "
                   "crawl or `linkwatch db replay` copies them")
    if report.without_link or report.without_page:
        raise click.ClickException(
            f"{report.without_link} sighting(s) without their link, {report.without_page} without their "
            "page (deleted by hand; the sightings themselves are kept)")
    click.echo("integrity ok: every sighting has its link and its page")


@db.command()
@pass_app
def replay(app: App) -> None:
    """Store the batches spilled to <data dir>/spill while PostgreSQL was unreachable.

    Also finishes the context search copy (`--text`) for sightings a crawl stopped before copying.
    """
    from linkwatch.db.replay import replay_all
    from linkwatch.db.spill import pending_spills, spill_dir

    data_dir = app.data_dir()
    files = pending_spills(data_dir)
    if not files:
        click.echo(f"no spilled batches in {spill_dir(data_dir)}")
    else:
        click.echo(f"replaying {len(files)} spilled batch(es) from {spill_dir(data_dir)}", err=True)
    with app.open_database() as conn:
        outcome = replay_all(conn, data_dir)
    if outcome.copied_ranges:
        click.echo(f"copied {outcome.copied_ranges} queued sighting range(s) into the context search copy")
    if not files:
        return
    total = outcome.stored
    click.echo(
        f"replayed {outcome.batches} batch(es): {total.pages} pages, {total.links_new} new links, "
        f"{total.sightings_new} new sightings"
    )
    if outcome.left:
        raise click.ClickException(f"{outcome.left} spill file(s) still wait (another process holds them)")
