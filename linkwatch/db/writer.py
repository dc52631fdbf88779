"""Writer: stores batches through store_batch(), reconnecting after an outage and setting aside pages
PostgreSQL itself refuses. It never drops a batch: while the server is away write() says so and the
caller keeps the batch (the crawl journal holds it on disk meanwhile)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from linkwatch.alerts.targets import StorePolicy
from linkwatch.db import DatabaseError, connect, describe, require_migrated
from linkwatch.db.spill import reject
from linkwatch.db.store import StoreResult, store_batch
from linkwatch.records import Page

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 5.0  # while the database is down, try it again at most this often
# A server that stops answering (network gone, host frozen) must turn into a retry, not a crawl stuck
# on a socket: keepalives notice a dead peer within ~25 s, and no batch statement may run for more
# than two minutes.
CONNECT_OPTIONS = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
    "keepalives_count": 3, "options": "-c statement_timeout=120s",
}
TRANSIENT_ATTEMPTS = 3  # deadlock/serialization retries before a batch is treated as an outage

# Errors that mean "the connection or server is gone": the batch is kept and written again later.
CONNECTION_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError)


class Writer:
    """A reconnecting batch writer. Not thread-safe by itself: one thread calls it."""

    def __init__(self, url: str, data_dir: Path, run_id: int | None,
                 count: Callable[[str, int], None] | None = None, alerts: StorePolicy | None = None) -> None:
        self.url = url
        self.alerts = alerts  # enqueue alerts for new high-scoring links with each batch
        self.data_dir = data_dir
        self.run_id = run_id
        self._count = count or (lambda _key, _n: None)
        self.conn: psycopg.Connection | None = None
        self.not_migrated: str | None = None  # the reason, when the server is up but the schema is behind
        self.last_error: str | None = None  # why the database is away, for messages
        self._next_attempt = 0.0

    def counted(self, result: StoreResult) -> None:
        self._count("pages_stored", result.pages)
        self._count("links_found", result.links_found)
        self._count("links_new", result.links_new)
        self._count("sightings_new", result.sightings_new)
        self._count("alerts_enqueued", result.alerts)

    def _drop_connection(self, exc: BaseException | None = None) -> None:
        if exc is not None:
            self.last_error = describe(exc)
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None
        self._next_attempt = time.monotonic() + RECONNECT_SECONDS

    def ensure_connected(self, *, force: bool = False) -> bool:
        """Connects (or re-connects); False while the database is away or not migrated."""
        if self.conn is not None and not self.conn.closed:
            return True
        if not force and time.monotonic() < self._next_attempt:
            return False
        self.conn = None
        try:
            conn = connect(self.url, autocommit=True, **CONNECT_OPTIONS)
        except CONNECTION_ERRORS as exc:
            if self.last_error is None:
                log.warning("PostgreSQL unavailable; pages wait in the crawl journal: %s", describe(exc))
            self._drop_connection(exc)
            return False
        self.conn = conn
        self.not_migrated = None
        try:
            require_migrated(conn)
        except DatabaseError as exc:  # reachable, but the schema is behind: keep waiting, say why
            self.not_migrated = str(exc)
            log.error("%s; pages wait in the crawl journal meanwhile", exc)
            self._drop_connection(exc)
            return False
        except CONNECTION_ERRORS as exc:
            self._drop_connection(exc)
            return False
        if self.last_error is not None:
            log.warning("PostgreSQL is back; storing the pages that waited")
        self.last_error = None
        return True

    def write(self, pages: list[Page], *, force_connect: bool = False) -> StoreResult | None:
        """Stores one batch; None (and nothing stored) while the database is away. Never raises for an
        outage; a page PostgreSQL refuses is set aside under <data dir>/spill/rejected/ and counted."""
        if not pages:
            return StoreResult()
        if not self.ensure_connected(force=force_connect):
            return None
        try:
            result = self._store_isolating(pages)
        except CONNECTION_ERRORS as exc:
            log.warning("PostgreSQL dropped mid-batch; %d page(s) wait: %s", len(pages), describe(exc))
            self._drop_connection(exc)
            return None
        self._count("batches", 1)
        self.counted(result)
        return result

    def _store_retrying(self, pages: list[Page]) -> StoreResult:
        """store_batch(), run again after a deadlock or serialization failure (sorted locking should
        prevent both); still failing after TRANSIENT_ATTEMPTS counts as an outage."""
        assert self.conn is not None
        for attempt in range(1, TRANSIENT_ATTEMPTS):
            try:
                return store_batch(self.conn, pages, self.run_id, alerts=self.alerts)
            except psycopg.errors.TransactionRollback as exc:
                log.warning("batch rolled back (%s); attempt %d of %d", exc, attempt, TRANSIENT_ATTEMPTS)
                time.sleep(0.1 * attempt)
        try:
            return store_batch(self.conn, pages, self.run_id, alerts=self.alerts)
        except psycopg.errors.TransactionRollback as exc:
            raise psycopg.OperationalError(f"batch kept rolling back ({exc})") from exc

    def _store_isolating(self, pages: list[Page]) -> StoreResult:
        """Stores the batch; if PostgreSQL refuses the data itself, bisects to set the bad pages aside."""
        try:
            return self._store_retrying(pages)
        except CONNECTION_ERRORS:
            raise
        except psycopg.Error as exc:
            if len(pages) == 1:
                path = reject(self.data_dir, pages, self.run_id, str(exc))
                self._count("dropped/db_rejected", 1)
                log.error("PostgreSQL rejected page %s (%s); kept in %s", pages[0].url[:200], exc, path)
                return StoreResult()
        total = StoreResult()
        half = len(pages) // 2
        total += self._store_isolating(pages[:half])
        total += self._store_isolating(pages[half:])
        return total

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None
