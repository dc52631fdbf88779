"""store_batch() and Store: batched, idempotent, deadlock-free writes; spills in outages."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import psycopg

from linkwatch.db import DatabaseError, connect, require_migrated
from linkwatch.db.spill import reject, replay_spills, spill_batch
from linkwatch.db.sql import query
from linkwatch.records import PageItem

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0  # while the database is down, try it again at most this often
# A server that stops answering (network gone, host frozen) must turn into a spill, not a crawl
# stuck on a socket: keepalives notice a dead peer within ~25 s, and no batch statement may run
# for more than two minutes.
CONNECT_OPTIONS = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
    "keepalives_count": 3, "options": "-c statement_timeout=120s",
}
TRANSIENT_ATTEMPTS = 3  # deadlock/serialization retries before a batch is treated as an outage

PAGE_COLUMNS = (
    "ord", "url", "sha256", "fetched_at", "http_status", "content_type", "title", "rendered",
    "bytes", "warc_file", "warc_offset", "warc_length",
)
SIGHTING_COLUMNS = (
    "page_ord", "platform", "kind", "code", "canonical_url", "raw", "obfuscated", "found_in",
    "context", "score",
)

# What store_batch() reports to on_step, in order: temp tables and COPY, the four statements, COMMIT.
STORE_STEPS = ("stage", "upsert_pages", "page_ids", "upsert_links", "insert_sightings", "commit")

# Errors that mean "the connection or server is gone": the batch is spilled and retried later.
CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError)


@dataclass
class StoreResult:
    """What one store_batch() call wrote."""

    pages: int = 0
    links_found: int = 0
    links_new: int = 0
    sightings_new: int = 0

    def __iadd__(self, other: StoreResult) -> StoreResult:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


def store_batch(
    conn: psycopg.Connection,
    pages: list[PageItem],
    run_id: int | None,
    on_step: Callable[[str], None] | None = None,
) -> StoreResult:
    """Writes `pages` and their links/sightings in one transaction; safe to repeat (idempotent).

    COPY into temporary staging tables, then set-based `INSERT … SELECT … ON CONFLICT` for pages,
    links and sightings, each sorted by its unique key so concurrent writers lock rows in the same
    order. Repeating a batch changes nothing but links.last_seen. `on_step(name)` is called after
    each step (the names in STORE_STEPS), for bench.ingest --profile.
    """
    result = StoreResult(pages=len(pages))
    if not pages:
        return result
    params = {"run_id": run_id}
    step = on_step or (lambda _name: None)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query("store", "stage"))
        with cur.copy(f"COPY lw_stage_pages ({', '.join(PAGE_COLUMNS)}) FROM STDIN") as copy:
            for ord_, p in enumerate(pages):
                copy.write_row((
                    ord_, p.url, p.sha256, p.fetched_at, p.status, p.content_type, p.title,
                    bool(p.rendered), p.body_size if p.body is None else len(p.body),
                    p.warc_file, p.warc_offset, p.warc_length,
                ))
        with cur.copy(f"COPY lw_stage_sightings ({', '.join(SIGHTING_COLUMNS)}) FROM STDIN") as copy:
            for ord_, p in enumerate(pages):
                for link in p.links:
                    copy.write_row((
                        ord_, link["platform"], link["kind"], link["code"], link["url"],
                        link.get("raw") or link["url"], bool(link.get("obfuscated")),
                        link.get("where") or "text", link.get("context") or "",
                        float(link.get("score") or 0.0),
                    ))
        step("stage")
        cur.execute(query("store", "upsert_pages"), params)
        step("upsert_pages")
        cur.execute(query("store", "page_ids"))
        step("page_ids")
        cur.execute(query("store", "upsert_links"))
        result.links_found, result.links_new = cur.fetchone()
        step("upsert_links")
        cur.execute(query("store", "insert_sightings"), params)
        result.sightings_new = cur.fetchone()[0]
        step("insert_sightings")
    step("commit")
    return result


class Store:
    """A reconnecting writer: stores batches, spills them when PostgreSQL is away, replays on return.

    Not thread-safe by itself; StorePipeline calls it from one writer thread.
    """

    def __init__(self, url: str, data_dir: Path, run_id: int | None, stats: object | None = None) -> None:
        self.url = url
        self.data_dir = data_dir
        self.run_id = run_id
        self.stats = stats
        self.conn: psycopg.Connection | None = None
        self.not_migrated: str | None = None  # the reason, when the server is up but the schema is behind
        self._next_attempt = 0.0

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats is not None and n:
            self.stats.inc_value(f"linkwatch/{key}", n)

    def _count(self, result: StoreResult) -> None:
        self._inc("pages_stored", result.pages)
        self._inc("links_found", result.links_found)
        self._inc("links_new", result.links_new)
        self._inc("sightings_new", result.sightings_new)

    def _drop_connection(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None
        self._next_attempt = time.monotonic() + RECONNECT_SECONDS

    def ensure_connected(self, *, force: bool = False) -> bool:
        """Connects (or re-connects) and replays spilled batches; False while the database is away."""
        if self.conn is not None and not self.conn.closed:
            return True
        if not force and time.monotonic() < self._next_attempt:
            return False
        self.conn = None
        try:
            conn = connect(self.url, autocommit=True, **CONNECT_OPTIONS)
        except CONNECTION_ERRORS as exc:
            log.warning("PostgreSQL unavailable, spilling batches under %s: %s", self.spill_dir, exc)
            self._drop_connection()
            return False
        self.conn = conn
        self.not_migrated = None
        try:
            require_migrated(conn)
        except DatabaseError as exc:  # reachable, but the schema is behind: keep spilling, say why
            self.not_migrated = str(exc)
            log.error("%s; spilling batches under %s meanwhile", exc, self.spill_dir)
            self._drop_connection()
            return False
        except CONNECTION_ERRORS as exc:
            log.warning("PostgreSQL dropped while connecting; spilling under %s: %s", self.spill_dir, exc)
            self._drop_connection()
            return False
        return self.replay()

    @property
    def spill_dir(self) -> Path:
        return self.data_dir / "spill"

    def replay(self) -> bool:
        """Replays every spill file; False (and the rest kept) if the connection drops meanwhile."""
        assert self.conn is not None
        try:
            replayed = replay_spills(self.conn, self.data_dir)
        except (*CONNECTION_ERRORS, psycopg.errors.TransactionRollback) as exc:
            log.warning("PostgreSQL dropped during spill replay; will retry: %s", exc)
            self._drop_connection()
            return False
        for result in replayed:
            self._inc("replayed_batches")
            self._count(result)
        if replayed:
            log.info("replayed %d spilled batch(es) from %s", len(replayed), self.spill_dir)
        return True

    def write(self, pages: list[PageItem], *, force_connect: bool = False) -> StoreResult | None:
        """Stores one batch, or spills it when the database is away; never raises for an outage."""
        if not pages:
            return StoreResult()
        if self.ensure_connected(force=force_connect):
            assert self.conn is not None
            try:
                result = self._store_isolating(pages)
            except CONNECTION_ERRORS as exc:
                log.warning("PostgreSQL dropped mid-batch; spilling %d page(s): %s", len(pages), exc)
                self._drop_connection()
            else:
                self._inc("batches")
                self._count(result)
                return result
        path = spill_batch(self.data_dir, pages, self.run_id)
        self._inc("spilled_batches")
        log.warning("spilled %d page(s) to %s", len(pages), path)
        return None

    def _store_retrying(self, pages: list[PageItem]) -> StoreResult:
        """store_batch(), run again after a deadlock or serialization failure (sorted locking should
        prevent both); still failing after TRANSIENT_ATTEMPTS counts as an outage, so it spills."""
        assert self.conn is not None
        for attempt in range(1, TRANSIENT_ATTEMPTS):
            try:
                return store_batch(self.conn, pages, self.run_id)
            except psycopg.errors.TransactionRollback as exc:
                log.warning("batch rolled back (%s); attempt %d of %d", exc, attempt, TRANSIENT_ATTEMPTS)
                time.sleep(0.1 * attempt)
        try:
            return store_batch(self.conn, pages, self.run_id)
        except psycopg.errors.TransactionRollback as exc:
            raise psycopg.OperationalError(f"batch kept rolling back ({exc})") from exc

    def _store_isolating(self, pages: list[PageItem]) -> StoreResult:
        """Stores the batch; if PostgreSQL refuses the data itself, bisects to set the bad pages aside."""
        try:
            return self._store_retrying(pages)
        except CONNECTION_ERRORS:
            raise
        except psycopg.Error as exc:
            if len(pages) == 1:
                path = reject(self.data_dir, pages, self.run_id, str(exc))
                self._inc("dropped/db_rejected")
                log.error("PostgreSQL rejected page %s (%s); kept in %s", pages[0].url[:200], exc, path)
                return StoreResult()
        total = StoreResult()
        half = len(pages) // 2
        total += self._store_isolating(pages[:half])
        total += self._store_isolating(pages[half:])
        return total

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
