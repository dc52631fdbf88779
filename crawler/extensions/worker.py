"""Distributed crawl worker: heartbeat, picking up shared work when idle, closing when the run is done."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 0.5


class DistributedWorker:
    """Keeps a worker in its run until the shared queue is empty and no worker was busy for a while.

    Scrapy closes a spider as soon as its own engine is idle, but another worker may be parsing a
    page that will fill the shared queue: so the spider stays open until the queue is empty and no
    worker (this one included) has been busy for LINKWATCH_REDIS_IDLE seconds (Redis time).
    Requests this worker was downloading when it is stopped go back to the shared queue.
    """

    def __init__(self, crawler: Crawler, idle_seconds: float) -> None:
        self.crawler = crawler
        self.idle_seconds = idle_seconds
        self.idle_since: float | None = None
        self.loop: task.LoopingCall | None = None
        self.inflight: dict[int, Request] = {}
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(self.left_downloader, signal=signals.request_left_downloader)
        crawler.signals.connect(self.received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedWorker:
        if not crawler.settings.get("LINKWATCH_REDIS_TOKEN"):
            raise NotConfigured("not a distributed crawl")
        return cls(crawler, crawler.settings.getfloat("LINKWATCH_REDIS_IDLE", 30.0))

    @property
    def shared(self) -> Any:
        return self.crawler.spider.shared

    def opened(self, spider: Any) -> None:
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(HEARTBEAT_SECONDS, now=True)

    def _engine_idle(self) -> bool:
        engine = self.crawler.engine
        try:
            return engine is not None and engine.spider_is_idle()
        except RuntimeError:  # engine slot gone: closing
            return True

    def _poke(self) -> None:
        # An idle engine only asks its scheduler for work (and re-checks idleness) every 5 s
        # (ExecutionEngine heartbeat): another worker may have queued requests since.
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def beat(self) -> None:
        try:
            busy = not self._engine_idle()
            self.shared.heartbeat(busy=busy)
            if busy:
                self.idle_since = None
            else:
                # Re-runs the idle check (and takes queued work) now rather than at the next
                # engine heartbeat, 5 s away.
                self._poke()
        except Exception:  # a Redis hiccup must not stop the loop; the next beat retries
            logger.warning("distributed heartbeat failed", exc_info=True)

    def idle(self, spider: Any) -> None:
        shared = self.shared
        if shared.queue_length():
            self.idle_since = None
            self._poke()
            raise DontCloseSpider
        now = shared.now()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_seconds or shared.others_busy_since(now - self.idle_seconds):
            raise DontCloseSpider
        logger.info("distributed run %s: shared queue empty, all workers idle", shared.token)

    def reached(self, request: Request, spider: Any) -> None:
        if request.meta.get("lw_side"):  # made for a page being parsed (a shortener's HEAD): not a page
            return
        self.inflight[id(request)] = request

    def _closing(self) -> bool:
        slot = getattr(self.crawler.engine, "_slot", None)
        return slot is None or slot.closing is not None

    def left_downloader(self, request: Request, spider: Any) -> None:
        # A download cancelled because this worker is stopping stays in flight: closed() requeues it.
        if not self._closing():
            self.inflight.pop(id(request), None)

    def received(self, response: Any, request: Request, spider: Any) -> None:
        self.inflight.pop(id(request), None)

    def closed(self, spider: Any, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        stats = self.crawler.stats
        stats.set_value("linkwatch/run_token", self.shared.token)
        stats.set_value("linkwatch/worker", self.shared.worker)
        stats.set_value("linkwatch/run_budget_used", self.shared.budget_used())
        if reason == "finished" or not self.inflight:
            return
        # Stopped mid-download: hand these pages to the workers still running (or a resumed run).
        scheduler = getattr(self.crawler.engine, "_slot", None)
        queue = getattr(getattr(scheduler, "scheduler", None), "queue", None)
        if queue is None:
            return
        for request in self.inflight.values():
            # Straight into the queue, past the dupefilter that already holds its fingerprint; its
            # dont_filter stays as it was, so redirects from it are still filtered.
            queue.push(request)
        stats.set_value("linkwatch/requeued", len(self.inflight))
