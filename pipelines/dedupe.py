"""DedupePipeline (400): drops a page version (url, version) already seen in this crawl, counted."""

from __future__ import annotations

import hashlib

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from linkwatch.records import Page


class DedupePipeline:
    """Keeps 16-byte digests of (url, version), so a crawl of millions of pages stays small in memory.
    A page version is its body without volatile parts (Page.version), else its sha256."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: Page) -> Page:
        raw = f"{item.url}\n{item.version or item.sha256}".encode("utf-8", "replace")
        key = hashlib.blake2b(raw, digest_size=16).digest()
        if key in self.seen:
            self.stats.inc_value("linkwatch/dropped/duplicate_page")
            raise DropItem(f"page version already seen in this crawl: {item.url[:80]}")
        self.seen.add(key)
        return item
