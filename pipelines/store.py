"""StorePipeline (800): buffers pages and hands batches to the database layer's writer on its own thread."""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from linkwatch.db.spill import spill_batch
from linkwatch.db.store import CONNECT_OPTIONS, Store
from linkwatch.db.text_index import TextIndexer
from linkwatch.records import PageItem
from pipelines import required_setting

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 250  # pages; ~5,000 sightings at forum densities, one round of COPY + 4 statements
DEFAULT_FLUSH_SECONDS = 5.0
QUEUE_BATCHES = 4  # batches waiting for the writer before process_item blocks (back-pressure)


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
        run_id = s.get("LINKWATCH_RUN_ID")
        return cls(
            crawler,
            required_setting(crawler, "LINKWATCH_DATABASE_URL"),
            Path(required_setting(crawler, "LINKWATCH_DATA_DIR")),
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
