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
    """Check integrity: sightings whose link or page was deleted by hand, and the audit log's hash
    chain (an entry changed or deleted behind linkwatch's back). Exit 1 if either is found.

    Sightings have no foreign keys (they cost half the store's throughput); the store keeps them
    consistent by construction, so only a manual DELETE in psql can leave one behind. It reads every
    sighting and every audit entry: seconds at millions of rows.
    """
    from linkwatch.db.integrity import check_integrity

    with app.open_database() as conn:
        report = check_integrity(conn)
    if report.queued_ranges:
        # Not an error: --text reads queued sightings directly until they are copied.
        click.echo(f"{report.queued_ranges} stored batch(es) wait for the context search copy; the next "
                   "crawl or `linkwatch db replay` copies them")
    if report.audit is None:
        click.echo("the audit log was not verified: this database role may not read it")
    elif report.audit.broken_at is not None:
        raise click.ClickException(f"the audit log's hash chain is broken: {report.audit.reason}")
    else:
        click.echo(f"audit log ok: {report.audit.rows} entries, hash chain intact")
    if report.without_link or report.without_page:
        raise click.ClickException(
            f"{report.without_link} sighting(s) without their link, {report.without_page} without their "
            "page (deleted by hand; the sightings themselves are kept)")
    click.echo("integrity ok: every sighting has its link and its page")


@db.command()
@pass_app
def replay(app: App) -> None:
    """Store what crawls left on local disk: journaled pages a kill or an outage kept from PostgreSQL
    (and the spill files of earlier versions), with the figures of runs cut off before their end.

    Journals that still hold a frontier are kept (their pages marked stored) for `crawl NAME --resume`.
    Also finishes the context search copy (`--text`) for sightings a crawl stopped before copying.
    """
    from linkwatch.alerts.targets import alert_settings, store_policy_of
    from linkwatch.db.replay import replay_all

    data_dir = app.data_dir()
    with app.open_database() as conn:
        outcome = replay_all(conn, data_dir, alerts=store_policy_of(alert_settings(app.config)))
    total = outcome.stored
    if outcome.batches:
        click.echo(f"stored {outcome.batches} batch(es): {total.pages} pages, {total.links_new} new links, "
                   f"{total.sightings_new} new sightings")
    else:
        click.echo("nothing waited to be stored")
    if outcome.runs_recorded:
        click.echo(f"recorded the figures of {outcome.runs_recorded} crawl run(s) cut off before their end")
    if outcome.kept:
        names = ", ".join(sorted({d.parent.name for d in outcome.kept}))
        click.echo(f"{len(outcome.kept)} interrupted crawl(s) can continue: linkwatch crawl {names} --resume")
    if outcome.copied_ranges:
        click.echo(f"copied {outcome.copied_ranges} queued sighting range(s) into the context search copy")
    if outcome.busy or outcome.left:
        waiting = outcome.busy + outcome.left
        raise click.ClickException(f"{waiting} journal(s) or spill file(s) still wait (a crawl holds them)")
