"""The scheduler's ledger (job_runs) and its per-job advisory lock: one run of a job at a time, anywhere."""

from __future__ import annotations

from datetime import datetime

import psycopg

from linkwatch.db.sql import query

# Advisory-lock namespace for scheduled jobs (the per-source crawl lock uses its own); keeps two
# schedulers from even starting the same job at once.
JOB_LOCK_NAMESPACE = 0x6C6A  # "lj"


def last_starts(conn: psycopg.Connection) -> dict[str, datetime]:
    """The latest start of each job name."""
    return dict(conn.execute(query("job_runs", "last_starts")).fetchall())


def try_lock(conn: psycopg.Connection, job: str) -> bool:
    """Takes the job's session-level advisory lock on conn; False when another scheduler holds it."""
    params = {"namespace": JOB_LOCK_NAMESPACE, "job": job}
    return conn.execute(query("job_runs", "try_lock"), params).fetchone()[0]


def unlock(conn: psycopg.Connection, job: str) -> None:
    conn.execute(query("job_runs", "unlock"), {"namespace": JOB_LOCK_NAMESPACE, "job": job})


def record_skip(conn: psycopg.Connection, job: str, scheduled_for: datetime | None, host: str,
                scheduler_pid: int, detail: str) -> None:
    """A run that did not start (another scheduler has the job), finished at once as 'skipped'."""
    conn.execute(query("job_runs", "record_skip"), {"job": job, "scheduled_for": scheduled_for, "host": host,
                                                    "scheduler_pid": scheduler_pid, "detail": detail})


def start(conn: psycopg.Connection, job: str, scheduled_for: datetime | None, host: str,
          scheduler_pid: int) -> tuple[int, datetime]:
    """A 'running' row for a job run; its id and start time."""
    row = conn.execute(query("job_runs", "start"), {"job": job, "scheduled_for": scheduled_for, "host": host,
                                                    "scheduler_pid": scheduler_pid}).fetchone()
    return int(row[0]), row[1]


def set_pid(conn: psycopg.Connection, run_id: int, pid: int) -> None:
    conn.execute(query("job_runs", "set_pid"), {"id": run_id, "pid": pid})


def finish(conn: psycopg.Connection, run_id: int, outcome: str, exit_code: int | None, detail: str) -> None:
    conn.execute(query("job_runs", "finish"), {"id": run_id, "outcome": outcome, "exit_code": exit_code,
                                               "detail": detail})
