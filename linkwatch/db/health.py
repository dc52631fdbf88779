"""Crawl health: each source's last run with flags, and closing runs whose process is gone."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psutil
import psycopg

from linkwatch.db.sql import query

DEFAULT_MAX_ERRORS = 10
DEFAULT_MAX_ERROR_RATE = 0.5




def hostname() -> str:
    """The host name recorded on crawl runs and scheduler jobs (socket.gethostname())."""
    return socket.gethostname()


def process_alive(pid: int | None, started_at: datetime | None = None) -> bool:
    """Whether pid is a live (non-zombie) process that existed at started_at (not a reused pid)."""
    if not pid or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
        return False
    # a process created well after the run started is a different one that reuses the pid
    return not (started_at is not None and created > started_at.timestamp() + 5)


def close_run(conn: psycopg.Connection, run_id: int, status: str, reason: str, closed_by: str) -> bool:
    """Marks one 'running' crawl run failed/interrupted; False when it was no longer running."""
    params = {"id": run_id, "status": status, "reason": reason, "closed_by": closed_by}
    cur = conn.execute(query("health", "mark_run"), params)
    return cur.rowcount > 0


def reap_stale_runs(conn: psycopg.Connection, host: str | None = None) -> list[int]:
    """Marks 'interrupted' every crawl run and job on this host still 'running' whose process is gone."""
    host = host or hostname()
    closed = []
    for run_id, pid, started_at in conn.execute(query("health", "running_here"), {"host": host}).fetchall():
        gone = not process_alive(pid, started_at)
        if gone and close_run(conn, run_id, "interrupted", f"process {pid} is gone", "health"):
            closed.append(run_id)
    jobs = conn.execute(query("health", "jobs_running_here"), {"host": host}).fetchall()
    for job_id, pid, started_at in jobs:
        if not process_alive(pid, started_at):
            conn.execute(query("health", "close_job"), {"id": job_id})
    conn.commit()
    return closed


def close_runs_of_pid(
    conn: psycopg.Connection, pid: int, reason: str, *, status: str = "failed",
    host: str | None = None, since: datetime | None = None,
) -> list[int]:
    """Closes the crawl runs a child (pid) started since `since` and left open, as status.

    'failed' (a hung child killed after its timeout) also overrides the 'interrupted' the child
    may have written itself on SIGTERM: the run did not end on its own.
    """
    overridable = ("running", "interrupted") if status == "failed" else ("running",)
    rows = conn.execute(query("health", "runs_of_pid"), {
        "pid": pid, "host": host or hostname(), "since": since or datetime.min.replace(tzinfo=UTC),
        "statuses": list(overridable)}).fetchall()
    closed = []
    for (run_id,) in rows:
        cur = conn.execute(query("health", "close_run_of_pid"), {
            "status": status, "reason": reason, "id": run_id, "statuses": list(overridable)})
        if cur.rowcount:
            closed.append(run_id)
    conn.commit()
    return closed


@dataclass
class SourceHealth:
    """One line of `sources status`."""

    name: str
    enabled: bool
    run_id: int | None
    started_at: datetime | None
    finished_at: datetime | None
    status: str | None
    trigger: str | None
    pages: int
    links: int
    new_links: int
    errors: int
    media_refused: int
    previous_max_links: int | None
    full_pages: int = 0
    flags: list[str] = field(default_factory=list)
    mode: str | None = None  # full | incremental
    skipped_unchanged: int = 0
    not_modified: int = 0
    new_pages: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        out = dict(self.__dict__)
        for key in ("started_at", "finished_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def flags_for(h: SourceHealth, max_errors: int, max_error_rate: float) -> list[str]:
    """Why a source needs a look: failed/interrupted, zero pages, links dried up, many errors."""
    if h.run_id is None:
        return ["never run"] if h.enabled else []
    flags = []
    if h.status in ("failed", "interrupted"):
        flags.append(h.status)
    if h.status == "running":
        return flags
    if h.pages == 0:
        flags.append("zero pages")
    if h.links == 0 and (h.previous_max_links or 0) > 0:
        flags.append(f"zero links (had {h.previous_max_links})")
    attempts = h.pages + h.errors
    if h.errors > max_errors or (attempts and h.errors / attempts > max_error_rate and h.errors >= 3):
        flags.append(f"{h.errors} errors")
    if h.full_pages:
        flags.append(f"{h.full_pages} page(s) with over 1,000 links")
    return flags


def source_health(
    conn: psycopg.Connection,
    names: list[str] | None = None,
    *,
    include_adhoc: bool = False,
    max_errors: int = DEFAULT_MAX_ERRORS,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    reap: bool = True,
) -> list[SourceHealth]:
    """Health of each source (after closing stale runs on this host), flags filled in."""
    if reap:
        try:
            reap_stale_runs(conn)
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()  # a read-only investigator sees the runs as they are recorded
    rows = conn.execute(
        query("health", "status"), {"names": names or None, "include_adhoc": include_adhoc}
    ).fetchall()
    out = []
    for row in rows:
        (name, enabled, run_id, started, finished, status, trigger, pages, links, new_links, errors,
         media_refused, prev, full_pages, mode, skipped, not_modified, new_pages) = row
        h = SourceHealth(name, enabled, run_id, started, finished, status, trigger, pages or 0,
                         links or 0, new_links or 0, errors or 0, media_refused or 0, prev, full_pages or 0,
                         mode=mode, skipped_unchanged=skipped or 0, not_modified=not_modified or 0,
                         new_pages=new_pages or 0)
        h.flags = flags_for(h, max_errors, max_error_rate)
        out.append(h)
    return out
