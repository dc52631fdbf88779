"""The alert outbox in PostgreSQL: enqueued with a batch's new links, claimed and recorded by senders."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from linkwatch.alerts.message import Alert
from linkwatch.alerts.targets import StorePolicy
from linkwatch.db.sql import query

CHANNEL = "linkwatch_alerts"  # NOTIFY channel (notify.sql, listen.sql)


def stage_new_links(cur: psycopg.Cursor, policy: StorePolicy | None) -> None:
    """Before the batch's links are upserted: remembers which of them are not stored yet."""
    if policy is not None:
        cur.execute(query("alerts", "stage_new"))


def enqueue(cur: psycopg.Cursor, policy: StorePolicy | None, run_id: int | None) -> int:
    """After the batch's sightings: one outbox row per new link at or above the threshold and target,
    in the batch's transaction, and a NOTIFY that PostgreSQL sends when it commits. Returns the count."""
    if policy is None:
        return 0
    keys = [k for k, _ in policy.targets]
    labels = [label for _, label in policy.targets]
    cur.execute(query("alerts", "enqueue"),
                {"run_id": run_id, "score": policy.score, "keys": keys, "labels": labels})
    n = len(cur.fetchall())
    if n:
        cur.execute(query("alerts", "notify"))
    return n


def listen(conn: psycopg.Connection) -> None:
    """Subscribes conn (autocommit) to the NOTIFY every batch with alerts sends when it commits."""
    conn.execute(query("alerts", "listen"))


def claim(conn: psycopg.Connection, keys: list[str]) -> Alert | None:
    """The next due alert for `keys`, row-locked until the caller's transaction ends (None: none due)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query("alerts", "claim"), {"keys": keys}).fetchone()
    return Alert(**row) if row else None


def mark_sent(conn: psycopg.Connection, alert_id: int) -> None:
    conn.execute(query("alerts", "sent"), {"id": alert_id})


def mark_failed(conn: psycopg.Connection, alert_id: int, error: str, *, max_attempts: int,
                retry_seconds: float) -> str:
    """Records a failed delivery; returns the new status (pending, or failed once attempts ran out)."""
    row = conn.execute(query("alerts", "failed"), {
        "id": alert_id, "error": error[:300], "max_attempts": max_attempts, "retry": retry_seconds,
    }).fetchone()
    return str(row[0])


def seconds_to_next(conn: psycopg.Connection, keys: list[str]) -> float | None:
    """Seconds until the next pending alert for `keys` is due; None when none is pending."""
    row = conn.execute(query("alerts", "next_due"), {"keys": keys}).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def retry_now(conn: psycopg.Connection, keys: list[str]) -> int:
    """Makes the alerts waiting to retry and those that gave up due now; returns how many."""
    return conn.execute(query("alerts", "retry_now"), {"keys": keys}).rowcount


def list_alerts(conn: psycopg.Connection, *, status: str | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    """The newest alerts (all targets), optionally of one status."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("alerts", "list"), {"status": status, "limit": limit}).fetchall()


def count_pending(conn: psycopg.Connection, keys: list[str]) -> int:
    """Pending alerts for `keys`."""
    return int(conn.execute(query("alerts", "count_pending"), {"keys": keys}).fetchone()[0])
