"""The scheduler: crawls, liveness checks and the weekly report as child processes on cron schedules."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

from linkwatch import cron
from linkwatch.config import Config
from linkwatch.db import connect, job_runs
from linkwatch.errors import EXIT_LOCKED, LinkwatchError

log = logging.getLogger("linkwatch.schedule")

TAIL_CHARS = 2000
# Runs the CLI with this interpreter; works without the console script on PATH or in the venv.
CLI_BOOTSTRAP = "from linkwatch.cli import main; main(prog_name='linkwatch')"


class ScheduleError(LinkwatchError, ValueError):
    """Raised by build_jobs()/cron_trigger() for a bad cron expression or sources file."""


def linkwatch_argv(*args: str) -> list[str]:
    """argv that runs `linkwatch ARGS…` with the scheduler's own Python interpreter."""
    return [sys.executable, "-c", CLI_BOOTSTRAP, *args]


def cron_trigger(expr: str, tz: tzinfo) -> Any:
    """The APScheduler trigger for a cron string: standard crontab days (0 and 7 are Sunday), 5 fields
    or 6 with seconds first (linkwatch.cron)."""
    try:
        return cron.trigger(expr, tz)
    except cron.CronError as exc:
        raise ScheduleError(str(exc)) from None


@dataclass(frozen=True)
class Job:
    """A scheduled child process."""

    name: str                 # crawl:<source> | check | report
    argv: list[str]
    cron: str
    timeout: float
    run_if_never: bool = True  # due at once when it has never run (not for the weekly report)


@dataclass(frozen=True)
class JobOptions:
    """What `linkwatch schedule` was asked to run."""

    sources_file: Path | None
    check_cron: str | None
    report_cron: str | None
    timeout: float
    crawl_command: str | None = None  # template with {source}; default: linkwatch crawl
    alerts_cron: str | None = None  # `alerts send`: what a crawl could not deliver (None: off)


def alerts_cron(config: Config) -> str | None:
    """When the scheduler runs `alerts send`: LINKWATCH_SCHEDULE_ALERTS_CRON once an alert target is
    configured (None: alerts off, or the job turned off)."""
    from linkwatch.alerts.targets import alert_settings

    value = config.schedule_alerts_cron
    if not alert_settings(config).enabled or value.strip().lower() in cron.OFF:
        return None
    return value


def build_jobs(options: JobOptions, tz: tzinfo) -> list[Job]:
    """One job per enabled source with a schedule, plus check and report unless turned off."""
    jobs: list[Job] = []
    if options.sources_file is not None:
        from linkwatch.sources import SourcesError, load_sources

        try:
            sources = load_sources(options.sources_file)
        except SourcesError as exc:
            raise ScheduleError(str(exc)) from None
        for source in sources:
            if not source.enabled or not source.schedule:
                continue
            if options.crawl_command:
                try:
                    parts = shlex.split(options.crawl_command)
                except ValueError as exc:  # an unclosed quote
                    raise ScheduleError(f"--crawl-command {options.crawl_command!r}: {exc}") from None
                argv = [part.replace("{source}", source.name) for part in parts]
            else:
                argv = linkwatch_argv("crawl", source.name, "--sources", str(options.sources_file),
                                      "--trigger", "schedule")
            jobs.append(Job(f"crawl:{source.name}", argv, source.schedule, options.timeout))
    if options.check_cron:
        jobs.append(Job("check", linkwatch_argv("check", "--due"), options.check_cron, options.timeout))
    if options.alerts_cron:
        jobs.append(Job("alerts", linkwatch_argv("alerts", "send"), options.alerts_cron, options.timeout))
    if options.report_cron:
        jobs.append(Job("report", linkwatch_argv("report", "weekly"), options.report_cron, options.timeout,
                        run_if_never=False))
    for job in jobs:
        cron_trigger(job.cron, tz)  # a bad expression fails before anything starts
    return jobs


def due_since(job: Job, last_start: datetime | None, now: datetime, tz: tzinfo) -> datetime | None:
    """The first fire time missed since last_start (all missed ones coalesce into one run), else None."""
    if last_start is None:
        return now if job.run_if_never else None
    after = last_start.astimezone(tz) + timedelta(microseconds=1)  # strictly after the last start
    fire = cron_trigger(job.cron, tz).get_next_fire_time(None, after)
    if fire is not None and fire <= now:
        return fire
    return None


@dataclass
class JobResult:
    """How one job run ended."""

    job: str
    outcome: str          # ok | failed | timeout | skipped | interrupted
    exit_code: int | None
    seconds: float
    detail: str = ""


@dataclass
class Runner:
    """Runs jobs as child processes, one at a time per job across every scheduler (advisory lock)."""

    database_url: str
    log_dir: Path
    host: str
    kill_grace: float = 30.0
    env: dict[str, str] = field(default_factory=dict)
    on_event: Callable[[str], None] | None = None
    _children: dict[int, subprocess.Popen] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def say(self, message: str) -> None:
        log.info(message)
        if self.on_event is not None:
            self.on_event(message)

    def last_starts(self) -> dict[str, datetime]:
        """The latest start of each job name in job_runs."""
        with connect(self.database_url) as conn:
            return job_runs.last_starts(conn)

    def due_jobs(self, jobs: list[Job], now: datetime, tz: tzinfo) -> list[tuple[Job, datetime]]:
        """Jobs with a missed fire time since their last run, each once."""
        starts = self.last_starts()
        due = []
        for job in jobs:
            when = due_since(job, starts.get(job.name), now, tz)
            if when is not None:
                due.append((job, when))
        return due

    def run(self, job: Job, scheduled_for: datetime | None = None) -> JobResult:
        """Runs job once (skipped when any scheduler runs it already); records it in job_runs."""
        if self.stopping.is_set():
            return JobResult(job.name, "skipped", None, 0.0, "scheduler stopping")
        began = time.monotonic()
        try:
            return self._run(job, scheduled_for, began)
        except psycopg.Error as exc:  # the database went away: this run is lost, the scheduler is not
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.say(f"{job.name}: failed, database error: {first}")
            return JobResult(job.name, "failed", None, time.monotonic() - began, f"database error: {first}")

    def _run(self, job: Job, scheduled_for: datetime | None, began: float) -> JobResult:
        with connect(self.database_url, autocommit=True) as conn:
            if not job_runs.try_lock(conn, job.name):
                detail = "already running (another scheduler holds it)"
                job_runs.record_skip(conn, job.name, scheduled_for, self.host, os.getpid(), detail)
                self.say(f"{job.name}: skipped, {detail}")
                return JobResult(job.name, "skipped", None, 0.0, detail)
            try:
                return self._run_locked(conn, job, scheduled_for, began)
            finally:
                job_runs.unlock(conn, job.name)

    def _run_locked(self, conn: psycopg.Connection, job: Job, scheduled_for: datetime | None,
                    began: float) -> JobResult:
        from linkwatch.db import health

        job_run_id, started_at = job_runs.start(conn, job.name, scheduled_for, self.host, os.getpid())
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        log_path = self.log_dir / f"{job.name.replace(':', '-')}-{stamp}-{job_run_id}.log"
        self.say(f"{job.name}: started (log {log_path})")
        outcome, exit_code, detail = "failed", None, ""
        try:
            with open(log_path, "wb") as out:
                # argv is built by build_jobs from our own CLI or the operator's --crawl-command; no shell
                proc = subprocess.Popen(  # noqa: S603
                    job.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env={**os.environ, **self.env}, start_new_session=True,
                )
                with self._lock:
                    self._children[proc.pid] = proc
                job_runs.set_pid(conn, job_run_id, proc.pid)
                try:
                    exit_code = proc.wait(timeout=job.timeout)
                    outcome = "ok" if exit_code == 0 else "failed"
                    if self.stopping.is_set() and exit_code != 0:
                        outcome = "interrupted"
                        closed = health.close_runs_of_pid(
                            conn, proc.pid, "scheduler stopped", status="interrupted",
                            host=self.host, since=started_at,
                        )
                        detail = f"stopped with the scheduler; runs marked interrupted: {closed or 'none'}"
                except subprocess.TimeoutExpired:
                    exit_code = self._stop(proc)
                    outcome = "timeout"
                    closed = health.close_runs_of_pid(
                        conn, proc.pid, f"killed by the scheduler after {job.timeout:g}s",
                        host=self.host, since=started_at,
                    )
                    detail = f"killed after {job.timeout:g}s; crawl runs marked failed: {closed or 'none'}"
                finally:
                    with self._lock:
                        self._children.pop(proc.pid, None)
        except OSError as exc:
            detail = f"could not start: {exc}"
        tail = _tail(log_path)
        if outcome == "failed" and exit_code == EXIT_LOCKED:  # `linkwatch crawl`: the source is locked
            outcome, detail = "skipped", "the source's crawl lock is held by another crawl"
        detail = "\n".join(x for x in (detail, tail) if x)[-TAIL_CHARS:]
        job_runs.finish(conn, job_run_id, outcome, exit_code, detail)
        seconds = time.monotonic() - began
        self.say(f"{job.name}: {outcome} (exit {exit_code}) after {seconds:.1f}s")
        return JobResult(job.name, outcome, exit_code, seconds, detail)

    def _stop(self, proc: subprocess.Popen) -> int | None:
        """SIGTERM to the child's process group, SIGKILL after kill_grace; its exit code."""
        for sig, wait in ((signal.SIGTERM, self.kill_grace), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                return proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return proc.poll()

    def stop_all(self) -> None:
        """Stops every running child (scheduler shutdown); their jobs end 'interrupted'."""
        self.stopping.set()
        with self._lock:
            children = list(self._children.values())
        for proc in children:
            self._stop(proc)


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL_CHARS))
            return f.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


def run_once(runner: Runner, jobs: list[Job], tz: tzinfo) -> list[JobResult]:
    """Runs every due job once (missed runs coalesced), one after the other; for cron/systemd timers."""
    now = datetime.now(tz)
    return [runner.run(job, when) for job, when in runner.due_jobs(jobs, now, tz)]


def _apply(scheduler: BackgroundScheduler, runner: Runner, jobs: list[Job], tz: tzinfo,
           current: dict[str, Job]) -> dict[str, Job]:
    """Adds new or changed jobs (due ones run now), removes dropped ones; returns the new set."""
    now = datetime.now(tz)
    due = {job.name: when for job, when in runner.due_jobs(jobs, now, tz)}
    wanted = {job.name: job for job in jobs}
    for name in set(current) - set(wanted):
        scheduler.remove_job(name)
    for job in jobs:
        if current.get(job.name) == job:
            continue
        kwargs: dict[str, object] = {}
        if job.name in due:
            kwargs["next_run_time"] = now  # missed while down (or never run): once now, then on schedule
        scheduler.add_job(runner.run, cron_trigger(job.cron, tz), args=[job], id=job.name,
                          name=job.name, replace_existing=True, **kwargs)
    return wanted


def speak_for(scheduler: BackgroundScheduler, runner: Runner, tz: tzinfo, crons: dict[str, str]) -> None:
    """The scheduler's events in linkwatch's own lines (through runner.say), instead of APScheduler's
    raw log records ("Execution of job … skipped: maximum number of running instances reached").

    `crons` (job name -> cron, kept current by the caller) gives the next run time: asking the
    scheduler would wait for a lock its shutdown holds while it waits for this very job.
    """
    from apscheduler import events

    # APScheduler's own records would reach stderr as bare lines through logging's last resort.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)

    def when(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if value else "now"

    def heard(event: events.JobEvent) -> None:
        name = event.job_id
        due = getattr(event, "scheduled_run_time", None) or (getattr(event, "scheduled_run_times", None)
                                                             or [None])[-1]
        if event.code == events.EVENT_JOB_MAX_INSTANCES:
            runner.say(f"{name}: still running from its last time; the run due {when(due)} is skipped")
        elif event.code == events.EVENT_JOB_MISSED:
            runner.say(f"{name}: the run due {when(due)} was missed (the scheduler was busy or stopped); "
                       "it runs at its next time")
            return
        elif event.code == events.EVENT_JOB_ERROR:
            exc = getattr(event, "exception", None)
            runner.say(f"{name}: the scheduler could not run it ({type(exc).__name__}: {exc})")
        cron = crons.get(name)
        if cron is not None and not runner.stopping.is_set():
            upcoming = cron_trigger(cron, tz).get_next_fire_time(None, datetime.now(tz))
            runner.say(f"{name}: next run {when(upcoming)}")

    scheduler.add_listener(heard, events.EVENT_JOB_EXECUTED | events.EVENT_JOB_ERROR
                           | events.EVENT_JOB_MISSED | events.EVENT_JOB_MAX_INSTANCES)


def serve(runner: Runner, jobs: list[Job], tz: tzinfo, stop: threading.Event, max_workers: int = 4,
          reload: Callable[[], list[Job]] | None = None, watch: Path | None = None) -> None:
    """Runs jobs on their cron schedules until stop is set; jobs missed while down run once at start.

    When `watch` (the sources file) changes, `reload()` gives the new job list: added or changed
    sources are scheduled, removed or disabled ones dropped; a bad file keeps the old schedule.
    """
    scheduler = BackgroundScheduler(
        timezone=tz,
        executors={"default": {"type": "threadpool", "max_workers": max_workers}},
        # coalesce: a backlog of missed fire times runs once; max_instances: never twice at once here.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    crons: dict[str, str] = {}
    speak_for(scheduler, runner, tz, crons)
    current = _apply(scheduler, runner, jobs, tz, {})
    crons.update({name: job.cron for name, job in current.items()})
    scheduler.start()

    def stamp() -> float | None:
        try:
            return watch.stat().st_mtime_ns if watch is not None else None
        except OSError:
            return None

    seen = stamp()
    try:
        while not stop.wait(1.0):
            if reload is None or stamp() == seen:
                continue
            seen = stamp()
            try:
                current = _apply(scheduler, runner, reload(), tz, current)
            except (ScheduleError, psycopg.Error) as exc:
                runner.say(f"sources file not reloaded, keeping the schedule: {exc}")
                continue
            crons.clear()
            crons.update({name: job.cron for name, job in current.items()})
            runner.say("sources file reloaded: " + ", ".join(sorted(current)))
    finally:
        runner.stop_all()
        scheduler.shutdown(wait=True)


def timezone_of(config: Config) -> tzinfo:
    """The scheduler's time zone (LINKWATCH_TIMEZONE)."""
    return ZoneInfo(config.timezone)
