"""`linkwatch alerts`: deliver the alerts the crawls enqueued (send) and see what was sent (list)."""

from __future__ import annotations

import threading

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.params import CSV, JSON, JSONL, TEXT, Count, format_option
from linkwatch.errors import LinkwatchError

STATUSES = ("pending", "sent", "failed")


class AlertsOffError(LinkwatchError):
    """Raised by `alerts send` when no alert target is configured."""


@click.group()
def alerts() -> None:
    """Alerts about new high-scoring links: webhooks and e-mail.

    A crawl that stores a new link scoring at least LINKWATCH_ALERT_SCORE (or its source's
    alert_score) enqueues one alert per target in the same transaction, and delivers it within
    seconds; what could not be delivered then is delivered by `alerts send` or `linkwatch schedule`.
    """


@alerts.command()
@click.option("--follow", is_flag=True, help="Keep delivering alerts as crawls enqueue them, until Ctrl-C.")
@click.option("--retry-now", is_flag=True,
              help="Also deliver now the alerts waiting for their next try and those that gave up (failed).")
@pass_app
def send(app: App, follow: bool, retry_now: bool) -> None:
    """Deliver the pending alerts that are due (retries wait their turn), once."""
    from linkwatch.alerts.targets import alert_settings
    from linkwatch.jobs.alert_sender import send_pending

    settings = alert_settings(app.config)
    if not settings.enabled:
        raise AlertsOffError("no alert target is configured: set LINKWATCH_ALERT_WEBHOOKS or "
                             "LINKWATCH_ALERT_SMTP")
    stop = threading.Event() if follow else None
    try:
        report = send_pending(app.database_url(), settings, app.config.user_agent, retry_now=retry_now,
                              stop=stop)
    except KeyboardInterrupt:
        if stop is None:
            raise
        click.echo("stopped")
        return
    r = report.result
    line = f"sent {r.sent} · {r.retrying} to retry · {r.failed} failed · {report.pending} pending"
    if report.pending and report.next_in is not None:
        line += f" (next try in {report.next_in:.0f}s)"
    click.echo(line)


@alerts.command(name="list")
@click.option("--status", type=click.Choice(STATUSES), help="Only alerts in this state.")
@click.option("--limit", type=Count(1), default=100, show_default=True, help="Newest alerts shown at most.")
@format_option(TEXT, JSON, JSONL, CSV)
@pass_app
def list_(app: App, status: str | None, limit: int, fmt: str) -> None:
    """List alerts, newest first: link, score, target, state, attempts and the last error."""
    from linkwatch.cli.output import Column, emit, local, plural, print_table, zone_note
    from linkwatch.db.alerts import list_alerts

    with app.open_database() as conn:
        rows = list_alerts(conn, status=status, limit=limit)
    tz = app.config.zone
    columns = [
        Column("id", "ID", keep=True, right=True), Column("link_id", "link", keep=True, right=True),
        Column("platform", "platform", rank=6), Column("code", "code", keep=True),
        Column("score", "score", rank=8, right=True), Column("target", "target", rank=5, shrink=True),
        Column("status", "status", keep=True), Column("attempts", "tries", rank=7, right=True),
        Column("created_at", "enqueued", rank=4), Column("when", "sent / next try", rank=3),
        Column("last_error", "last error", rank=2, shrink=True),
    ]

    def table(rows: list[dict]) -> None:
        if not rows:
            click.echo("no alerts" + (f" {status}" if status else "") + " yet")
            return
        cells = []
        for row in rows:
            when = row["sent_at"] if row["status"] == "sent" else (
                row["next_attempt_at"] if row["status"] == "pending" else None)
            cells.append({
                "id": str(row["id"]), "link_id": str(row["link_id"]), "platform": row["platform"],
                "code": row["code"], "score": f"{row['score']:.2f}", "target": row["target"],
                "status": row["status"], "attempts": str(row["attempts"]),
                "created_at": local(row["created_at"], tz, "%Y-%m-%d %H:%M:%S"),
                "when": local(when, tz, "%Y-%m-%d %H:%M:%S"), "last_error": row["last_error"] or "",
            })
        print_table(columns, cells, footer=f"{plural(len(rows), 'alert')} · {zone_note(tz)}")

    emit(rows, fmt, tz, text=table)
