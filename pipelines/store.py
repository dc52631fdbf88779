"""StorePipeline (800): journals each page on local disk, then stores pages in PostgreSQL in batches from
a writer thread. Nothing it was given is lost to a kill, an outage or a failing writer."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from linkwatch.alerts.targets import StorePolicy, store_policy
from linkwatch.db.journal import Journal, JournalError, run_journal_dir
from linkwatch.db.spill import reject
from linkwatch.db.text_index import TextIndexer
from linkwatch.db.writer import CONNECT_OPTIONS, RECONNECT_SECONDS, Writer
from linkwatch.records import Page
from pipelines import required_setting

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 250  # pages; ~5,000 sightings at forum densities, one round of COPY + 4 statements
DEFAULT_FLUSH_SECONDS = 5.0
DEFAULT_MEMORY_PAGES = 5_000  # pages held in memory beyond those the journal can give back
DEFAULT_CLOSE_SECONDS = 30.0  # at the end, how long to keep trying an unreachable database
FAILURES_BEFORE_SETTING_ASIDE = 3  # a batch an unexpected error keeps failing is set aside for a person


@dataclass
class _Entry:
    """A page on its way to PostgreSQL: held in memory, or only its journal record (seq)."""

    page: Page | None
    seq: int | None  # None: the journal could not take it, so memory is its only copy
    since: float


class StorePipeline:
    """Journals every page, then hands batches to one writer thread (full, stale, or at close).

    The journal (the spider's, else one of its own under LINKWATCH_JOURNAL_DIR or the data directory)
    makes a page durable before it counts as done; the writer stores batches in order and marks them
    stored in the journal. While PostgreSQL is away the writer keeps its batch and tries again; pages
    keep arriving and are held in memory up to LINKWATCH_STORE_MEMORY_PAGES, beyond which those already
    durable in the journal are let go and read back when their turn comes. process_item never waits.
    Only when memory is full and the journal cannot take pages either does the crawl stop
    (finish_reason `storage_failed`), saying what is not stored.

    A second thread (TextIndexer) fills the context search copy behind the writer.
    """

    def __init__(self, crawler: Crawler, url: str, data_dir: Path, run_id: int | None, *,
                 journal_dir: Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                 flush_seconds: float = DEFAULT_FLUSH_SECONDS, memory_pages: int = DEFAULT_MEMORY_PAGES,
                 close_seconds: float = DEFAULT_CLOSE_SECONDS, alerts: StorePolicy | None = None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.data_dir = data_dir
        self.run_id = run_id
        self.journal_dir = journal_dir
        self.writer = Writer(url, data_dir, run_id, count=self._inc, alerts=alerts)
        self.indexer = TextIndexer(url, CONNECT_OPTIONS)
        self.batch_size = max(1, batch_size)
        self.flush_seconds = max(0.05, flush_seconds)
        self.memory_pages = max(self.batch_size, memory_pages)
        self.close_seconds = close_seconds
        self.journal: Journal | None = None
        self._own_journal = False
        self._cond = threading.Condition()
        self._entries: list[_Entry] = []  # in journal order; the writer takes from the front
        self._held = 0  # entries whose page is in memory
        self._closing = False
        self._close_deadline = 0.0
        self._stopping_crawl = False
        self._stopping: Any = None  # the Deferred of a crawl this pipeline stopped
        self._thread: threading.Thread | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        s = crawler.settings
        run_id = s.get("LINKWATCH_RUN_ID")
        journal_dir = s.get("LINKWATCH_JOURNAL_DIR")
        pipeline = cls(
            crawler,
            required_setting(crawler, "LINKWATCH_DATABASE_URL"),
            Path(required_setting(crawler, "LINKWATCH_DATA_DIR")),
            int(run_id) if run_id is not None else None,
            journal_dir=Path(journal_dir) if journal_dir else None,
            batch_size=s.getint("LINKWATCH_STORE_BATCH_SIZE", DEFAULT_BATCH_SIZE),
            flush_seconds=s.getfloat("LINKWATCH_STORE_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS),
            memory_pages=s.getint("LINKWATCH_STORE_MEMORY_PAGES", DEFAULT_MEMORY_PAGES),
            close_seconds=s.getfloat("LINKWATCH_STORE_CLOSE_SECONDS", DEFAULT_CLOSE_SECONDS),
            # Alerts: the targets' keys and labels only; their URLs and passwords stay with the sender.
            alerts=store_policy(s.getlist("LINKWATCH_ALERT_TARGETS"),
                                s.getfloat("LINKWATCH_ALERT_SCORE", 1.0)),
        )
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    def _inc(self, key: str, n: int = 1) -> None:
        if n:
            self.stats.inc_value(f"linkwatch/{key}", n)

    # -- life cycle ---------------------------------------------------------------------------------

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.journal = getattr(spider, "journal", None)
        if self.journal is None:  # no frontier journal: `scrapy crawl`, tests, custom spiders
            source = getattr(spider, "source", None)
            name = getattr(source, "name", None) or getattr(spider, "name", None) or "crawl"
            # Without a crawl run (`scrapy crawl`, Scrapyd) each process journals under a name of its
            # own, still a number so that `linkwatch db replay` and the next crawl find what it left.
            number = self.run_id if self.run_id is not None else time.time_ns()
            directory = self.journal_dir or run_journal_dir(self.data_dir, name, number)
            self.journal = Journal(directory, run_id=self.run_id, source=name).open()
            self._own_journal = True
        # Connect before the first page; an outage only warns (pages wait in the journal), but a
        # reachable database with pending migrations is a setup error to fix first.
        self.writer.ensure_connected(force=True)
        if self.writer.not_migrated:
            raise CloseSpider(self.writer.not_migrated)
        self._thread = threading.Thread(target=self._run, name="linkwatch-store", daemon=True)
        self._thread.start()
        self.indexer.start()
        self.indexer.notify()  # what an earlier run left queued

    def process_item(self, item: Page) -> Page:
        assert self.journal is not None
        try:
            seq: int | None = self.journal.page(item)
        except JournalError as exc:
            seq = None  # memory is then this page's only copy until it is stored
            if not self.stats.get_value("linkwatch/journal_errors"):
                log.error("%s; pages are held in memory until PostgreSQL takes them", exc)
            self._inc("journal_errors")
        with self._cond:
            self._entries.append(_Entry(item, seq, time.monotonic()))
            self._held += 1
            if self._held > self.memory_pages:
                self._let_go()
            if len(self._entries) >= self.batch_size:
                self._cond.notify_all()
            backlog = len(self._entries)
        self.stats.set_value("linkwatch/store_backlog", backlog)
        return item

    def item_dropped(self, item: Any, response: Any, exception: Any, spider: Any) -> None:
        """A page a pipeline dropped (media, a duplicate version, a bad URL) is done: nothing to store."""
        key = getattr(item, "key", None)
        if key and self.journal is not None and getattr(spider, "shared", None) is None:
            with contextlib.suppress(JournalError):
                self.journal.done(key)

    def _let_go(self) -> None:
        """Memory is full: drop the pages the journal can give back (durable, on disk), oldest first."""
        assert self.journal is not None
        durable = self.journal.durable
        for entry in self._entries:
            if self._held <= self.memory_pages // 2:
                return
            if entry.page is not None and entry.seq is not None and entry.seq <= durable \
                    and self.journal.on_disk(entry.seq):
                entry.page = None
                self._held -= 1
        away = self.writer.last_error is not None or self.writer.conn is None
        if (away or self._held > 4 * self.memory_pages) and self._held > self.memory_pages \
                and not self._stopping_crawl:
            # Neither PostgreSQL nor the journal takes pages: stop fetching before more pile up. (A
            # writer that is only slower than the crawl gets some room before that.)
            self._stopping_crawl = True
            self._inc("storage_failed")
            log.error("PostgreSQL (%s) and the crawl journal (%s) both refuse pages; stopping the crawl",
                      self.writer.last_error or "unreachable", self.journal.error or "not durable")
            self.crawler.stats.set_value("linkwatch/storage_error", self._storage_error())
            from twisted.internet import reactor

            reactor.callLater(0, self._stop_crawl)  # process_item runs in the reactor's thread

    def _stop_crawl(self) -> None:
        from scrapy.utils.defer import deferred_from_coro

        engine = self.crawler.engine
        if engine is not None:
            self._stopping = deferred_from_coro(engine.close_spider_async(reason="storage_failed"))

    def _storage_error(self) -> str:
        assert self.journal is not None
        return (f"PostgreSQL is unreachable ({self.writer.last_error or 'no answer'}) and the crawl journal "
                f"{self.journal.directory} cannot be written ({self.journal.error or 'not durable'})")

    # -- the writer thread --------------------------------------------------------------------------

    def _next_batch(self) -> list[_Entry] | None:
        """The entries to write next (left in place until stored); None when the writer should stop."""
        with self._cond:
            while True:
                if self._entries:
                    full = len(self._entries) >= self.batch_size
                    stale = time.monotonic() - self._entries[0].since >= self.flush_seconds
                    if full or stale or self._closing:
                        return self._entries[: self.batch_size]
                elif self._closing:
                    return None
                self._cond.wait(self.flush_seconds / 2)

    def _pages(self, batch: list[_Entry]) -> list[Page]:
        assert self.journal is not None
        journal = self.journal
        return [e.page if e.page is not None else journal.read_page(e.seq or 0) for e in batch]

    def _run(self) -> None:
        failures = 0
        while (batch := self._next_batch()) is not None:
            try:
                result = self.writer.write(self._pages(batch), force_connect=self._closing)
            except Exception as exc:  # a bug or a broken record: never silent, never a dead writer
                failures += 1
                log.exception("storing %d page(s) failed (attempt %d)", len(batch), failures)
                self._inc("store_errors")
                if failures < FAILURES_BEFORE_SETTING_ASIDE:
                    self._wait_retry()
                    continue
                self._set_aside(batch, exc)
                result = None
                failures = 0
            else:
                failures = 0
                if result is None:  # the database is away: keep the batch, try again
                    if self._closing and time.monotonic() >= self._close_deadline:
                        return
                    self._wait_retry()
                    continue
            self._stored(batch)

    def _wait_retry(self) -> None:
        with self._cond:
            self._cond.wait(min(RECONNECT_SECONDS, max(0.05, self._close_deadline - time.monotonic()))
                            if self._closing else RECONNECT_SECONDS)

    def _set_aside(self, batch: list[_Entry], exc: Exception) -> None:
        pages = [e.page for e in batch if e.page is not None]
        with contextlib.suppress(OSError):
            path = reject(self.data_dir, pages, self.run_id, f"{type(exc).__name__}: {exc}")
            log.error("set %d page(s) aside in %s; they are also in the crawl journal", len(pages), path)
        self._inc("dropped/store_error", len(batch))

    def _stored(self, batch: list[_Entry]) -> None:
        assert self.journal is not None
        seqs = [e.seq for e in batch if e.seq is not None]
        if seqs:
            with contextlib.suppress(JournalError):
                self.journal.stored(min(seqs), max(seqs))
        with self._cond:
            del self._entries[: len(batch)]
            self._held -= sum(1 for e in batch if e.page is not None)
            backlog = len(self._entries)
        self.stats.set_value("linkwatch/store_backlog", backlog)
        self.indexer.notify()

    def close_spider(self) -> None:
        with self._cond:
            self._closing = True
            self._close_deadline = time.monotonic() + self.close_seconds
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self.close_seconds + 150)  # a batch statement may take up to two minutes
            self._thread = None
        self.indexer.close()  # copies what is still queued before the crawl ends
        self._account_for_the_rest()
        self.writer.close()
        if self._own_journal and self.journal is not None:
            durable = self.journal.close()
            # Without a crawl run no runner tidies this journal: once all of it is stored, it goes.
            if self.run_id is None and durable and not self.stats.get_value("linkwatch/unstored_pages") \
                    and not self.stats.get_value("linkwatch/lost_pages"):
                self.journal.remove()

    def _account_for_the_rest(self) -> None:
        """Pages the writer could not store: safe in the journal (the next crawl or `db replay` stores
        them), or, if the journal could not take them either, lost, and said so."""
        assert self.journal is not None
        with self._cond:
            left = list(self._entries)
        if not left:
            return
        self.journal.flush(timeout=30)
        durable = self.journal.durable
        waiting = [e for e in left if e.seq is not None and e.seq <= durable]
        lost = len(left) - len(waiting)
        self.stats.set_value("linkwatch/unstored_pages", len(waiting))
        if waiting:
            log.warning("%d page(s) wait in the crawl journal %s; the next crawl or `linkwatch db replay` "
                        "stores them", len(waiting), self.journal.directory)
        if lost:
            self.stats.set_value("linkwatch/lost_pages", lost)
            self.stats.set_value("linkwatch/lost_links", sum(len(e.page.links) for e in left
                                                              if e.page is not None and e not in waiting))
            self.stats.set_value("linkwatch/storage_error", self._storage_error())
            log.error("%d page(s) could not be stored: %s", lost, self._storage_error())
