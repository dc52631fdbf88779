"""Live crawl progress on stderr (pages of the budget, links, new links, pages/s, errors, media refused),
and word at once when Ctrl-C or SIGTERM starts a clean stop."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

_STOPPING_SAID = False  # once per process, however many sources crawl at once


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


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
        self.budget: int | None = None
        # A distributed worker's own pages are not the run's: its budget is shared in Redis.
        self.shared = bool(crawler.settings.get("LINKWATCH_REDIS_TOKEN"))
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)

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
        of = f"/{self.budget}" if self.budget and not self.shared else ""
        return (
            f"[{self.name}] {pages}{of} page{'' if pages == 1 and not of else 's'} · "
            f"{_n(get('linkwatch/links_found', 0), 'link')} ({get('linkwatch/links_new', 0)} new) · "
            f"{pages / elapsed:.1f} pages/s · {_n(errors, 'error')} · {get('media/refused', 0)} media refused"
        )

    def write(self, text: str, *, newline: bool) -> None:
        try:
            if self.tty:
                self.stream.write("\r\x1b[2K" + text + ("\n" if newline else ""))
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must not stop the crawl

    def show(self) -> None:
        self.write(self.line(), newline=False)

    def opened(self) -> None:
        self.started = time.monotonic()
        source = getattr(self.crawler.spider, "source", None)
        self.budget = getattr(source, "max_pages", None)
        self.loop = task.LoopingCall(self.show)
        self.loop.start(self.interval, now=False)

    def engine_started(self) -> None:
        # Scrapy installs its SIGINT/SIGTERM handlers as the crawl starts and says nothing (at the
        # WARNING log level) until the crawl has stopped, which can take a while: say it at once.
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if callable(previous) and not getattr(previous, "linkwatch_says_stopping", False):
                signal.signal(signum, self._announcing(previous))

    def _announcing(self, previous: Any) -> Any:
        def handler(signum: int, frame: Any) -> None:
            global _STOPPING_SAID
            if not _STOPPING_SAID:
                _STOPPING_SAID = True
                interrupt = signum == signal.SIGINT
                what = "Ctrl-C" if interrupt else signal.Signals(signum).name
                again = "Ctrl-C again" if interrupt else "the same signal again"
                self.write(f"{what}: stopping the crawl cleanly — finishing the pages in flight and keeping "
                           f"the queue for --resume ({again} stops at once)", newline=True)
            previous(signum, frame)  # Scrapy's own: a graceful stop, and the next signal kills

        handler.linkwatch_says_stopping = True  # type: ignore[attr-defined]
        return handler

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
