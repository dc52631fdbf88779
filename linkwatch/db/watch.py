"""Per-URL crawl state (url_state): read once when a crawl starts, written in batches when it ends."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from linkwatch.db.sql import query
from linkwatch.watch.plan import UrlState

log = logging.getLogger(__name__)

BATCH = 2000  # rows per transaction: one COPY and one INSERT … ON CONFLICT each
COLUMNS = (
    "url", "fetch_url", "fetched_at", "kind", "listing_page", "etag", "last_modified", "sha256", "fetches",
    "changes", "unchanged_runs", "next_due", "signature", "observed", "last_page", "last_page_no",
    "listed_at",
)


def load_states(conn: psycopg.Connection, source_id: int) -> dict[str, UrlState]:
    """Every url_state row of the source, by frontier key (10,000s of rows: one query, a few MB)."""
    rows = conn.execute(query("watch", "load"), {"source_id": source_id})
    return {row[0]: UrlState(*row) for row in rows}


def last_full(conn: psycopg.Connection, source_id: int) -> tuple[datetime | None, int]:
    """When the source's last finished full crawl started, and how many pages it has state for."""
    at, known = conn.execute(query("watch", "last_full"), {"source_id": source_id}).fetchone()
    return at, int(known)


def save_states(conn: psycopg.Connection, source_id: int, states: Iterable[UrlState]) -> int:
    """Writes the states in batches (COPY into a staging table, one upsert per batch); returns rows."""
    rows = sorted(states, key=lambda s: s.url)
    for start in range(0, len(rows), BATCH):
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(query("watch", "stage"))
            with cur.copy(f"COPY lw_stage_url_state ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for s in rows[start:start + BATCH]:
                    copy.write_row((
                        s.url, s.fetch_url, s.fetched_at, s.kind, s.listing_page, s.etag, s.last_modified,
                        s.sha256, s.fetches, s.changes, s.unchanged_runs, s.next_due, s.signature,
                        Jsonb(s.observed) if s.observed is not None else None, s.last_page, s.last_page_no,
                        s.listed_at,
                    ))
            cur.execute(query("watch", "upsert"), {"source_id": source_id})
    return len(rows)


def set_mode(conn: psycopg.Connection, run_id: int, mode: str) -> None:
    """Records whether the run is full or incremental."""
    conn.execute(query("watch", "set_mode"), {"run_id": run_id, "mode": mode})
