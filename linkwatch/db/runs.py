"""Crawl-run bookkeeping: sources upserted, one advisory lock per source, crawl_runs start and finish."""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from linkwatch.db.sql import query
from linkwatch.errors import EXIT_LOCKED, LinkwatchError

# Advisory-lock namespace (first key); the second key is the source id.
LOCK_NAMESPACE = 0x6C77  # "lw"
SHARED_LOCK_WAIT = 2.0  # seconds a distributed worker waits out another worker's exclusive moment
STATUSES = ("finished", "interrupted", "failed")


class SourceLockedError(LinkwatchError):
    """Raised by lock_source() when another crawl of the same source holds its lock."""

    exit_code = EXIT_LOCKED




def upsert_source(conn: psycopg.Connection, source: Any) -> int:
    """Inserts or refreshes a source row from a linkwatch.sources.Source; returns its id."""
    config = source.model_dump(mode="json")
    row = conn.execute(
        query("runs", "upsert_source"),
        {"name": source.name, "config": Jsonb(config), "enabled": source.enabled, "adhoc": source.adhoc},
    ).fetchone()
    return int(row[0])


def lock_source(conn: psycopg.Connection, source_id: int, name: str, *, shared: bool = False) -> bool:
    """Takes the source's session-level advisory lock on conn (held until conn closes).

    A normal crawl takes it exclusively. The workers of a distributed crawl take it shared, so they
    run together while a normal crawl and a distributed run still exclude each other. Returns True
    when no other crawl of the source holds it (its rows still 'running' are then orphans).
    """
    args = (LOCK_NAMESPACE, source_id)
    alone = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", args).fetchone()[0]
    if not shared:
        if not alone:
            raise SourceLockedError(
                f"another crawl of source {name!r} is running; try again when it has finished"
            )
        return True
    if alone:
        # Held exclusively for a moment to learn we are the only worker; now share it.
        conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", args)
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", args)
        return True
    # A worker that found itself alone holds the lock exclusively for a moment before sharing it:
    # two workers started together must wait that moment out, not take it for a normal crawl
    # (which holds it exclusively for its whole run).
    deadline = time.monotonic() + SHARED_LOCK_WAIT
    while not conn.execute("SELECT pg_try_advisory_lock_shared(%s, %s)", args).fetchone()[0]:
        if time.monotonic() >= deadline:
            raise SourceLockedError(
                f"a non-distributed crawl of source {name!r} is running; try again when it has finished"
            )
        time.sleep(0.05)
    return False



def start_run(
    conn: psycopg.Connection,
    source_id: int,
    *,
    trigger: str = "manual",
    jobdir: str | None = None,
    abandon_stale: bool = True,
) -> int:
    """Records a running crawl (after marking this source's orphaned 'running' rows interrupted).

    `abandon_stale=False` when other distributed workers of the source are running: their rows
    are not orphans.
    """
    if abandon_stale:
        conn.execute(query("runs", "abandon_stale"), {"source_id": source_id})
    row = conn.execute(
        query("runs", "start"),
        {
            "source_id": source_id,
            "trigger": trigger,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "jobdir": jobdir,
        },
    ).fetchone()
    return int(row[0])


def run_figures(stats: dict[str, Any]) -> dict[str, int]:
    """The crawl_runs columns computed from a crawl's Scrapy stats."""

    def n(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    return {
        "pages": n("linkwatch/pages"),
        "links": n("linkwatch/links_found"),
        "new_links": n("linkwatch/links_new"),
        "errors": n("linkwatch/errors") + n("log_count/ERROR"),
        "bytes": n("downloader/response_bytes"),
        "media_refused": n("media/refused"),
        # the incremental crawl's figures (linkwatch.watch)
        "skipped_unchanged": n("linkwatch/watch/skipped_unchanged"),
        "not_modified": n("linkwatch/watch/not_modified"),
        "new_pages": n("linkwatch/watch/new_pages"),
    }


def jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    """Scrapy stats with every value JSON can hold (datetimes as ISO text, the rest as text)."""
    out = {}
    for key, value in stats.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        try:
            json.dumps(value)
        except TypeError:
            value = str(value)
        out[key] = value
    return out


def finish_run(conn: psycopg.Connection, run_id: int, status: str, stats: dict[str, Any]) -> dict[str, int]:
    """Closes a run with its status and stats; returns the figures written to the columns."""
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    figures = run_figures(stats)
    params = {"run_id": run_id, "status": status, "stats": Jsonb(jsonable(stats)), **figures}
    conn.execute(query("runs", "finish"), params)
    return figures


def status_for(finish_reason: str | None) -> str:
    """The crawl_runs status for a Scrapy finish_reason."""
    if finish_reason is None:
        return "failed"
    if finish_reason == "shutdown":
        return "interrupted"
    if finish_reason == "finished" or finish_reason.startswith("closespider_"):
        return "finished"
    return "failed"


def run_exists(conn: psycopg.Connection, run_id: int) -> bool:
    """Whether the crawl_runs row is there (a replayed journal may name a run of another database)."""
    return conn.execute(query("runs", "exists"), {"run_id": run_id}).fetchone() is not None


def recover_run(conn: psycopg.Connection, run_id: int, pages: int, links: int) -> bool:
    """Records a cut-off run's figures from its journal, unless the run recorded its own end; True if so."""
    cur = conn.execute(query("runs", "recover"), {"run_id": run_id, "pages": pages, "links": links})
    return cur.rowcount > 0
