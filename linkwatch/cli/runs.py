"""`linkwatch runs`: the crawl history (every run, one run's figures and stats) and the scheduler's jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import (
    TABLE_TIME,
    Column,
    dumps,
    emit,
    local,
    parse_when,
    plural,
    print_table,
    stamp,
    zone_note,
)
from linkwatch.cli.params import CSV, JSON, JSONL, TEXT, count, format_option, limit_options
from linkwatch.db.history import JOB_OUTCOMES, RUN_STATUSES
from linkwatch.text import for_terminal

RUN_COLUMNS = [
    Column("id", "run", keep=True, right=True),
    Column("source", "source", keep=True),
    Column("started_at", "started", rank=9),
    Column("status", "outcome", rank=10),
    Column("seconds", "took", rank=5, right=True),
    Column("pages", "pages", rank=8, right=True),
    Column("links", "links", rank=7, right=True),
    Column("new_links", "new", rank=6, right=True),
    Column("errors", "errors", rank=4, right=True),
    Column("trigger", "trigger", rank=3),
    Column("host", "host", rank=1),
]
JOB_COLUMNS = [
    Column("id", "id", keep=True, right=True),
    Column("job", "job", keep=True),
    Column("started_at", "started", rank=9),
    Column("outcome", "outcome", rank=10),
    Column("exit_code", "exit", rank=6, right=True),
    Column("seconds", "took", rank=5, right=True),
    Column("scheduled_for", "due", rank=3),
    Column("host", "host", rank=1),
]
# The stats `runs show` prints as text, in this order (--format json has them all).
STAT_KEYS = (
    "finish_reason", "closed_by", "reason", "downloader/request_count", "downloader/response_count",
    "downloader/exception_count", "retry/count", "robotstxt/forbidden", "linkwatch/ignored",
    "linkwatch/skipped_not_page", "linkwatch/capture_errors", "linkwatch/captured_bytes", "memusage/max",
)


def took(seconds: float | None) -> str:
    """1.5s, 3m 02s, 2h 05m."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def cells(row: dict[str, Any], columns: list[Column], tz: ZoneInfo) -> dict[str, str]:
    out = {}
    for column in columns:
        value = row.get(column.key)
        if column.key == "seconds":
            out[column.key] = took(value)
        elif hasattr(value, "astimezone"):
            out[column.key] = local(value, tz, TABLE_TIME)
        else:
            out[column.key] = "-" if value is None else str(value)
    return out


@click.group(invoke_without_command=True)
@click.option("--source", "sources", multiple=True, help="Only runs of this source; repeatable.")
@click.option("--status", "statuses", multiple=True, type=click.Choice(RUN_STATUSES),
              help="Only runs that ended so; repeatable.")
@click.option("--since", metavar="DATE", help="Only runs started at or after DATE (YYYY-MM-DD or ISO).")
@format_option(TEXT, JSON, JSONL, CSV)
@limit_options(20, "run")
@click.pass_context
def runs(ctx: click.Context, sources: tuple[str, ...], statuses: tuple[str, ...], since: str | None,
         fmt: str, limit: int, all_rows: bool) -> None:
    """Crawl history: every crawl run, newest first (without a subcommand), with its outcome, pages,
    links, new links and errors. `runs show RUN` shows one run's figures and stats; `runs jobs`
    lists the scheduler's jobs and `runs job ID` one job with the end of its output. Runs left
    'running' by a process that is gone from this host are marked interrupted first.
    """
    if ctx.invoked_subcommand is not None:
        return
    from linkwatch.cli.params import chosen_limit
    from linkwatch.db import health, history
    from linkwatch.db.links import LinkFilters, check_filters

    app: App = ctx.find_object(App)
    tz = app.config.zone
    with app.open_database(autocommit=False) as conn:
        health.reap_stale_runs(conn)
        if sources:
            check_filters(conn, LinkFilters(source=sources))
        rows = history.crawl_runs(conn, sources=sources, statuses=statuses,
                                  since=parse_when(since, tz, end=False) if since else None,
                                  limit=chosen_limit(limit, all_rows))

        def text(found: list[dict[str, Any]]) -> None:
            if not found:
                click.echo("no crawl runs" + (" match" if sources or statuses or since else " yet"))
                return
            print_table(RUN_COLUMNS, [cells(r, RUN_COLUMNS, tz) for r in found],
                        footer=f"{plural(len(found), 'run')} · {zone_note(tz)}")

        emit(rows, fmt, tz, text=text)
        conn.commit()


@runs.command()
@click.argument("run_id", metavar="RUN", type=count(1))
@format_option(TEXT, JSON)
@pass_app
def show(app: App, run_id: int, fmt: str) -> None:
    """One crawl run: source, trigger, host and process, start and end, outcome, figures and the
    Scrapy stats behind them (all of them with --format json)."""
    from linkwatch.db import history
    from linkwatch.db.journal import run_journal_dir

    tz = app.config.zone
    with app.open_database() as conn:
        run = history.crawl_run(conn, run_id)
    if fmt == JSON:
        click.echo(dumps(run, tz, indent=2))
        return
    stats = run.pop("stats") or {}
    adhoc = " (ad hoc)" if run["adhoc"] else ""
    # A finished run's journal is removed once all of it is stored; one still there is kept for
    # `crawl --resume` or holds pages for `db replay`.
    journal = run_journal_dir(app.config.data_dir, run["source"], run["id"])
    left = f"{journal} (kept)" if journal.is_dir() else "- (stored and removed)"
    click.echo(f"crawl run {run['id']} of {for_terminal(run['source'])}{adhoc}")
    for label, value in (
        ("outcome", run["status"]), ("trigger", run["trigger"]), ("started", stamp(run["started_at"], tz)),
        ("finished", stamp(run["finished_at"], tz)), ("took", took(run["seconds"])),
        ("host", f"{run['host'] or '-'} (process {run['pid'] or '-'})"), ("pages", run["pages"]),
        ("links", f"{run['links']} ({run['new_links']} new)"), ("errors", run["errors"]),
        ("bytes", run["bytes"]), ("media refused", run["media_refused"]),
        ("mode", run["mode"] or "-"),
        ("unchanged", f"{run['skipped_unchanged']} skipped · {run['not_modified']} not modified (304)"),
        ("new pages", run["new_pages"]),
        ("journal", left),
    ):
        click.echo(f"{label:<15}{for_terminal(value, one_line=True)}")
    shown = [k for k in STAT_KEYS if k in stats]
    shown += sorted(k for k in stats if k.startswith("downloader/exception_type_count/"))
    if shown:
        click.echo("\nstats")
        for key in shown:
            value = stats[key]
            text = value if isinstance(value, str) else json.dumps(value)
            click.echo(f"  {key:<44}  {for_terminal(text, one_line=True)}")
    click.echo(f"\n{len(stats)} stats in all: --format json")


@runs.command("jobs")
@click.option("--job", "jobs", multiple=True, metavar="NAME",
              help="Only this job (crawl:SOURCE, check, report); repeatable.")
@click.option("--outcome", "outcomes", multiple=True, type=click.Choice(JOB_OUTCOMES),
              help="Only runs with this outcome; repeatable.")
@click.option("--since", metavar="DATE", help="Only runs started at or after DATE (YYYY-MM-DD or ISO).")
@format_option(TEXT, JSON, JSONL, CSV)
@limit_options(20, "job run")
@pass_app
def jobs(app: App, jobs: tuple[str, ...], outcomes: tuple[str, ...], since: str | None, fmt: str,
         limit: int, all_rows: bool) -> None:
    """The scheduler's job runs, newest first: job, when it started and was due, outcome, exit status."""
    from linkwatch.cli.params import chosen_limit
    from linkwatch.db import health, history

    tz = app.config.zone
    with app.open_database(autocommit=False) as conn:
        health.reap_stale_runs(conn)
        rows = history.job_runs(conn, jobs=jobs, outcomes=outcomes,
                                since=parse_when(since, tz, end=False) if since else None,
                                limit=chosen_limit(limit, all_rows))

        def text(found: list[dict[str, Any]]) -> None:
            if not found:
                click.echo("no job runs" + (" match" if jobs or outcomes or since else " yet"))
                return
            print_table(JOB_COLUMNS, [cells(r, JOB_COLUMNS, tz) for r in found],
                        footer=f"{plural(len(found), 'job run')} · {zone_note(tz)}")

        emit(rows, fmt, tz, text=text)
        conn.commit()


@runs.command("job")
@click.argument("job_run_id", metavar="ID", type=count(1))
@format_option(TEXT, JSON)
@pass_app
def job(app: App, job_run_id: int, fmt: str) -> None:
    """One scheduler job run: when, how it ended, and the end of its output (the whole output is in
    its log file under <data dir>/logs/schedule/)."""
    from linkwatch.db import history

    tz = app.config.zone
    with app.open_database() as conn:
        run = history.job_run(conn, job_run_id)
    logs = sorted((Path(app.config.data_dir) / "logs" / "schedule").glob(f"*-{job_run_id}.log"))
    run["log_file"] = str(logs[0]) if logs else None
    if fmt == JSON:
        click.echo(dumps(run, tz, indent=2))
        return
    click.echo(f"job run {run['id']}: {for_terminal(run['job'])}")
    for label, value in (
        ("outcome", run["outcome"]), ("exit status", "-" if run["exit_code"] is None else run["exit_code"]),
        ("due", stamp(run["scheduled_for"], tz)), ("started", stamp(run["started_at"], tz)),
        ("finished", stamp(run["finished_at"], tz)), ("took", took(run["seconds"])),
        ("host", f"{run['host'] or '-'} (process {run['pid'] or '-'}, "
                 f"scheduler {run['scheduler_pid'] or '-'})"),
        ("log file", run["log_file"] or "-"),
    ):
        click.echo(f"{label:<13}{for_terminal(value, one_line=True)}")
    if run["detail"]:
        click.echo("\nend of its output:")
        click.echo(for_terminal(run["detail"]))
