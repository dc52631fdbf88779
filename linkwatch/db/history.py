"""Crawl and job history: every crawl run and scheduler job run, listed or one by one (`linkwatch runs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from linkwatch.db.sql import query
from linkwatch.errors import LinkwatchError

RUN_STATUSES = ("running", "finished", "interrupted", "failed")
JOB_OUTCOMES = ("running", "ok", "failed", "timeout", "skipped", "interrupted")


class RunNotFoundError(LinkwatchError, LookupError):
    """Raised by crawl_run()/job_run() for an id that names no run."""


def crawl_runs(conn: psycopg.Connection, *, sources: tuple[str, ...] = (), statuses: tuple[str, ...] = (),
               since: datetime | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
    """Crawl runs, newest first (None as limit: all of them)."""
    params = {"sources": list(sources) or None, "statuses": list(statuses) or None, "since": since,
              "limit": limit}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("history", "crawl_runs"), params).fetchall()


def crawl_run(conn: psycopg.Connection, run_id: int) -> dict[str, Any]:
    """One crawl run with its stats."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("history", "crawl_run"), {"id": run_id}).fetchone()
    if row is None:
        raise RunNotFoundError(f"there is no crawl run {run_id}; `linkwatch runs` lists them")
    return row


def job_runs(conn: psycopg.Connection, *, jobs: tuple[str, ...] = (), outcomes: tuple[str, ...] = (),
             since: datetime | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
    """The scheduler's job runs, newest first."""
    params = {"jobs": list(jobs) or None, "outcomes": list(outcomes) or None, "since": since, "limit": limit}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("history", "job_runs"), params).fetchall()


def job_run(conn: psycopg.Connection, job_run_id: int) -> dict[str, Any]:
    """One job run with the tail of its output."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("history", "job_run"), {"id": job_run_id}).fetchone()
    if row is None:
        raise RunNotFoundError(f"there is no job run {job_run_id}; `linkwatch runs jobs` lists them")
    return row
