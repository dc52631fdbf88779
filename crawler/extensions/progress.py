"""Live crawl progress on stderr: pages, links, new links, pages/s, errors, media refused."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class Progress:
    """Prints one status line per interval (overwritten in place on a terminal)."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.name = crawler.settings.get("LINKWATCH_SOURCE") or "crawl"
        self.interval = interval
        self.stream = sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("LINKWATCH_PROGRESS", True):
            raise NotConfigured("LINKWATCH_PROGRESS is off")
        interval = crawler.settings.get("LINKWATCH_PROGRESS_INTERVAL")
        if interval is None:
            interval = 1.0 if sys.stderr.isatty() else 10.0
        return cls(crawler, float(interval))

    def line(self) -> str:
        get = self.stats.get_value
        elapsed = max(time.monotonic() - self.started, 1e-6)
        pages = get("linkwatch/pages", 0)
        errors = get("linkwatch/errors", 0) + get("log_count/ERROR", 0)
        return (
            f"[{self.name}] pages {pages} · links {get('linkwatch/links_found', 0)} "
            f"(new {get('linkwatch/links_new', 0)}) · {pages / elapsed:.1f} pages/s · "
            f"errors {errors} · media refused {get('media/refused', 0)}"
        )

    def show(self) -> None:
        try:
            if self.tty:
                self.stream.write("\r\x1b[2K" + self.line())
            else:
                self.stream.write(self.line() + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must not stop the crawl

    def opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.show()  # the final figures, also when the crawl was shorter than one interval
        if self.tty:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
