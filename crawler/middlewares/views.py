"""Drops a scheduled page just before download when the crawl has meanwhile fetched it under another URL."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)

STAT = "linkwatch/duplicate_views"


class DuplicateView(IgnoreRequest):
    """Raised for a page request whose page was already fetched under another URL."""


class DuplicateViewMiddleware:
    """A board links a topic as /topic/5-title and as /topic/5?page=1 before either is fetched; once one
    of them is fetched, its rel=canonical, its redirects and its view key (ForumSpider.views) say
    the other is the same page. Checked here, at download time, not only when the link was found.
    Only page requests (`lw_key`) are checked; start URLs and resumed pages always go out.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicateViewMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        meta = request.meta
        if "lw_key" not in meta or meta.get("lw_start") or meta.get("retry_times"):
            return
        spider = self.crawler.spider
        views = getattr(spider, "views", None)
        if views is None:
            return
        if not (views.already_fetched(request.url) or views.scheduled_elsewhere(request.url)):
            return
        self.crawler.stats.inc_value(STAT)
        if "redirect_urls" not in meta:  # a redirect's target was never budgeted on its own
            spider.refund_budget()
        logger.debug("Skipped %s: already fetched under another URL", request.url)
        raise DuplicateView(f"already fetched: {request.url}")
