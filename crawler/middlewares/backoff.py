"""Exponential backoff for retried requests (Scrapy retries at once; a failing forum needs a pause)."""

from __future__ import annotations

import asyncio
import random

from scrapy import Request
from scrapy.crawler import Crawler


class RetryBackoffMiddleware:
    """Delays a request that RetryMiddleware re-scheduled: base * 2^(attempt-1), capped, with jitter."""

    def __init__(self, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        settings = crawler.settings
        return cls(
            settings.getfloat("LINKWATCH_RETRY_BACKOFF_BASE", 1.0),
            settings.getfloat("LINKWATCH_RETRY_BACKOFF_MAX", 30.0),
        )

    async def process_request(self, request: Request) -> None:
        attempt = request.meta.get("retry_times", 0)
        if attempt and self.base > 0:
            delay = min(self.cap, self.base * 2 ** (attempt - 1))
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
