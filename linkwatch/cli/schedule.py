"""`linkwatch schedule`: runs crawls, liveness checks and the weekly report on their schedules."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from pathlib import Path

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import emit, stamp
from linkwatch.cli.params import JSON, JSONL, TEXT, FiniteFloat, format_option
from linkwatch.cron import OFF
from linkwatch.errors import LinkwatchError


@click.command()
@click.option("--once", is_flag=True, help="Run whatever is due now (missed runs once) and exit; for cron.")
@click.option("--list", "list_only", is_flag=True, help="Show the jobs, their last run and next time; exit.")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path),
              help="Sources file whose enabled sources with a `schedule` are crawled "
                   "(default LINKWATCH_SOURCES; skipped when the default file does not exist).")
@click.option("--check-cron", metavar="CRON",
              help="When to run `check --due` (default LINKWATCH_SCHEDULE_CHECK_CRON, hourly); 'off'.")
@click.option("--report-cron", metavar="CRON",
              help="When to run `report weekly` (default LINKWATCH_SCHEDULE_REPORT_CRON, "
                   "Monday 09:00 in LINKWATCH_TIMEZONE); 'off'.")
@click.option("--timeout", type=FiniteFloat(1), metavar="SECONDS",
              help="Kill a job running longer than this; its crawl run is marked failed "
                   "(default LINKWATCH_SCHEDULE_JOB_TIMEOUT).")
@click.option("--crawl-command", metavar="TEMPLATE",
              help="Run this instead of `linkwatch crawl SOURCE` ({source} is replaced; no shell).")
@click.option("--kill-grace", type=FiniteFloat(0), default=30, show_default=True,
              metavar="SECONDS", help="After SIGTERM, wait this long before SIGKILL.")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=4, show_default=True,
              help="Jobs that may run at the same time (different jobs; one job never runs twice).")
@format_option(TEXT, JSON, JSONL)
@pass_app
def schedule(app: App, once: bool, list_only: bool, sources_file: Path | None, check_cron: str | None,
             report_cron: str | None, timeout: float | None, crawl_command: str | None,
             kill_grace: float, workers: int, fmt: str) -> None:
    """Run each enabled source's crawl on its cron `schedule`, `check --due` hourly and
    `report weekly` on Monday morning, each as a child process with a timeout.

    A crash or hang in a job cannot take the scheduler down; a hung job is killed and its crawl run
    marked failed. Two schedulers (even on different machines) never run the same job at once, and
    a crawl also holds its source's lock. Runs missed while the scheduler was down run once at start.
    Every job is logged in the job_runs table (start, end, outcome, exit code, output tail) and
    its output is kept under <data dir>/logs/schedule/ (`linkwatch runs jobs`). Cron fields as in
    crontab(5): minute hour day-of-month month day-of-week, 0 and 7 are Sunday, names and @daily
    work; a sixth field in front is seconds. Times are in LINKWATCH_TIMEZONE. The sources file is
    re-read when it changes (no restart needed). --format applies to --list.
    """
    import psycopg

    from linkwatch.db import describe, health
    from linkwatch.jobs import schedule as sch

    config = app.config
    tz = sch.timezone_of(config)
    if sources_file is None and Path(config.sources).exists():
        sources_file = Path(config.sources)
    elif sources_file is not None and not sources_file.exists():
        raise LinkwatchError(f"{sources_file}: no such sources file")
    check_cron = config.schedule_check_cron if check_cron is None else check_cron
    report_cron = config.schedule_report_cron if report_cron is None else report_cron
    options = sch.JobOptions(
        sources_file=sources_file,
        check_cron=None if check_cron.strip().lower() in OFF else check_cron,
        report_cron=None if report_cron.strip().lower() in OFF else report_cron,
        timeout=timeout or config.schedule_job_timeout,
        crawl_command=crawl_command,
        alerts_cron=sch.alerts_cron(config),
    )
    jobs = sch.build_jobs(options, tz)
    url = app.database_url()
    with app.open_database(autocommit=False) as conn:
        health.reap_stale_runs(conn)

    def say(message: str) -> None:
        click.echo(f"{datetime.now(tz):%Y-%m-%d %H:%M:%S %Z} {message}", err=True)

    runner = sch.Runner(
        database_url=url, log_dir=app.data_dir() / "logs" / "schedule", host=health.hostname(),
        kill_grace=kill_grace, env={"LINKWATCH_DATABASE_URL": url}, on_event=say,
    )
    if list_only:
        starts = runner.last_starts()
        now = datetime.now(tz)
        listed = []
        for job in jobs:
            last = starts.get(job.name)
            listed.append({"job": job.name, "cron": job.cron, "last": last,
                           "next": sch.cron_trigger(job.cron, tz).get_next_fire_time(None, now),
                           "due": sch.due_since(job, last, now, tz) is not None})
        if fmt != TEXT:
            emit(iter(listed), fmt, tz, text=lambda _rows: None)
            return
        for row in listed:
            last = f"last {stamp(row['last'], tz)}" if row["last"] else "last never"
            cells = [row["job"], row["cron"], last, f"next {stamp(row['next'], tz)}"]
            if row["due"]:
                cells.append("due now")
            click.echo("\t".join(cells))
        return
    if not jobs:
        raise LinkwatchError(
            "nothing to schedule: no source has a schedule and check/report are off"
        )
    if once:
        try:
            results = sch.run_once(runner, jobs, tz)
        except psycopg.Error as exc:
            raise LinkwatchError(f"database error: {describe(exc)}") from exc
        if not results:
            say("nothing is due")
        bad = [r for r in results if r.outcome in ("failed", "timeout")]
        if bad:
            raise LinkwatchError(
                f"{len(bad)} job(s) did not succeed: " + ", ".join(f"{r.job} ({r.outcome})" for r in bad)
            )
        return
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        say(f"received signal {signum}; stopping jobs")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    say(f"scheduling {len(jobs)} job(s): " + ", ".join(f"{j.name} [{j.cron}]" for j in jobs))
    try:
        sch.serve(runner, jobs, tz, stop, max_workers=workers, reload=lambda: sch.build_jobs(options, tz),
                  watch=sources_file)
    except psycopg.Error as exc:
        raise LinkwatchError(f"database error: {describe(exc)}") from exc
    say("stopped")
