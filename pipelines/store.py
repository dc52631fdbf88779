"""StorePipeline (800) and store_batch(): batched, idempotent, deadlock-free writes of pages and links."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import psycopg
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from crawler.config import get_config
from crawler.items import PageItem
from pipelines.db import DatabaseError, connect, load_query, require_migrated
from pipelines.spill import reject, replay_spills, spill_batch
from pipelines.text_index import TextIndexer

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 250  # pages; ~5,000 sightings at forum densities, one round of COPY + 4 statements
DEFAULT_FLUSH_SECONDS = 5.0
RECONNECT_SECONDS = 5.0  # while the database is down, try it again at most this often
# A server that stops answering (network gone, host frozen) must turn into a spill, not a crawl
# stuck on a socket: keepalives notice a dead peer within ~25 s, and no batch statement may run
# for more than two minutes.
CONNECT_OPTIONS = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
    "keepalives_count": 3, "options": "-c statement_timeout=120s",
}
TRANSIENT_ATTEMPTS = 3  # deadlock/serialization retries before a batch is treated as an outage
QUEUE_BATCHES = 4  # batches waiting for the writer before process_item blocks (back-pressure)

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
        cur.execute(load_query("store", "stage"))
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
        cur.execute(load_query("store", "upsert_pages"), params)
        step("upsert_pages")
        cur.execute(load_query("store", "page_ids"))
        step("page_ids")
        cur.execute(load_query("store", "upsert_links"))
        result.links_found, result.links_new = cur.fetchone()
        step("upsert_links")
        cur.execute(load_query("store", "insert_sightings"), params)
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


_STOP = object()


class StorePipeline:
    """Buffers pages and hands full (or stale) batches to one writer thread; flushes everything at close.

    A second thread (TextIndexer) fills the context search copy behind the writer, on its own
    connection, and finishes it at close.

    Settings: LINKWATCH_DATABASE_URL, LINKWATCH_DATA_DIR, LINKWATCH_RUN_ID,
    LINKWATCH_STORE_BATCH_SIZE (pages, default 250), LINKWATCH_STORE_FLUSH_SECONDS (default 5).
    """

    def __init__(
        self,
        crawler: Crawler,
        url: str,
        data_dir: Path,
        run_id: int | None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_seconds: float = DEFAULT_FLUSH_SECONDS,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = Store(url, data_dir, run_id, self.stats)
        self.indexer = TextIndexer(url, CONNECT_OPTIONS)
        self.batch_size = max(1, batch_size)
        self.flush_seconds = max(0.05, flush_seconds)
        self._buffer: list[PageItem] = []
        self._buffer_since = time.monotonic()
        self._lock = threading.Lock()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._writer: threading.Thread | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        url = s.get("LINKWATCH_DATABASE_URL")
        if not url:
            from pipelines.db import database_url

            url = database_url()
        run_id = s.get("LINKWATCH_RUN_ID")
        return cls(
            crawler,
            url,
            Path(s.get("LINKWATCH_DATA_DIR") or get_config().data_dir),
            int(run_id) if run_id is not None else None,
            batch_size=s.getint("LINKWATCH_STORE_BATCH_SIZE", DEFAULT_BATCH_SIZE),
            flush_seconds=s.getfloat("LINKWATCH_STORE_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS),
        )

    def open_spider(self) -> None:
        # Connect (and replay earlier runs' spills) before the first page; an outage only warns,
        # but a reachable database with pending migrations is a setup error to fix first.
        self.store.ensure_connected(force=True)
        if self.store.not_migrated:
            raise CloseSpider(self.store.not_migrated)
        self._writer = threading.Thread(target=self._run_writer, name="linkwatch-store", daemon=True)
        self._writer.start()
        self.indexer.start()
        self.indexer.notify()  # what an earlier run left queued, and the spills just replayed

    def process_item(self, item: PageItem) -> PageItem:
        batch = None
        with self._lock:
            if not self._buffer:
                self._buffer_since = time.monotonic()
            self._buffer.append(item)
            if len(self._buffer) >= self.batch_size:
                batch, self._buffer = self._buffer, []
        if batch is not None:
            self._queue.put(batch)  # blocks only when the writer is QUEUE_BATCHES behind
        return item

    def _take_stale(self) -> list[PageItem] | None:
        with self._lock:
            if self._buffer and time.monotonic() - self._buffer_since >= self.flush_seconds:
                batch, self._buffer = self._buffer, []
                return batch
        return None

    def _run_writer(self) -> None:
        while True:
            try:
                batch = self._queue.get(timeout=self.flush_seconds / 2)
            except queue.Empty:
                batch = self._take_stale()
                if batch is None:
                    if self.store.conn is None and self.store.ensure_connected():
                        self.indexer.notify()  # spills were replayed as soon as the server was back
                    continue
            if batch is _STOP:
                return
            self._write(batch)  # type: ignore[arg-type]

    def _write(self, batch: list[PageItem], *, force_connect: bool = False) -> None:
        try:
            self.store.write(batch, force_connect=force_connect)
        except Exception:  # the crawl must go on; the batch is spilled so nothing is lost
            log.exception("unexpected error storing %d page(s); spilling them", len(batch))
            spill_batch(self.store.data_dir, batch, self.store.run_id)
            self.stats.inc_value("linkwatch/spilled_batches")
        else:
            if self.store.conn is not None:  # stored (or replayed) something: copy its contexts
                self.indexer.notify()

    def close_spider(self) -> None:
        if self._writer is not None:
            self._queue.put(_STOP)
            self._writer.join()
            self._writer = None
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch:
            self._write(batch, force_connect=True)
        elif self.store.conn is None and self.store.ensure_connected(force=True):
            self.indexer.notify()  # last chance to replay what this run spilled
        self.indexer.close()  # copies what is still queued before the crawl ends
        pending = sorted(self.store.spill_dir.glob("*.jsonl")) if self.store.spill_dir.exists() else []
        if pending:
            log.warning(
                "%d batch(es) wait in %s; the next run or `linkwatch db replay` stores them",
                len(pending), self.store.spill_dir,
            )
        self.store.close()
