"""NormalisePipeline (200): makes hostile page text safe for PostgreSQL and drops malformed links, counted."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from linkwatch.records import PageItem

# PostgreSQL text rejects NUL; other C0/C1 controls and lone surrogates break terminals, CSV and JSON.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACE_RUN = re.compile(r"\s+")

MAX_URL = 4096
MAX_TITLE = 1000
MAX_CONTEXT = 2000
MAX_RAW = 2000
MAX_CODE = 512
MAX_SHORT = 64  # platform, kind, where
MAX_LINKS_PER_PAGE = 5000  # a page with more is a trap; the rest are counted, not stored
LINK_FIELDS = ("platform", "kind", "code", "url")


def clean(value: object, limit: int, *, collapse: bool = False) -> str:
    """Text with control characters removed (newlines and tabs kept unless collapsed), capped at `limit`."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _CONTROL.sub("", text[: limit * 4])
    if collapse:
        text = _SPACE_RUN.sub(" ", text).strip()
    return text[:limit]


def normalise_link(link: object) -> tuple[dict[str, Any] | None, str | None]:
    """A cleaned link dict, or (None, reason) when it cannot be stored."""
    if not isinstance(link, dict):
        return None, "link_not_a_dict"
    out: dict[str, Any] = {}
    for key in LINK_FIELDS:
        value = link.get(key)
        if not isinstance(value, str) or not value.strip():
            return None, f"link_missing_{key}"
    url = clean(link["url"], MAX_URL + 1, collapse=True)
    if len(url) > MAX_URL:
        return None, "link_url_too_long"
    if not url.lower().startswith(("http://", "https://", "tg://")):
        return None, "link_bad_url"
    out["url"] = url
    out["platform"] = clean(link["platform"], MAX_SHORT, collapse=True).lower()
    out["kind"] = clean(link["kind"], MAX_SHORT, collapse=True).lower()
    out["code"] = clean(link["code"], MAX_CODE, collapse=True)
    if not (out["platform"] and out["kind"] and out["code"]):
        return None, "link_empty_field"
    out["raw"] = clean(link.get("raw") or url, MAX_RAW)
    out["obfuscated"] = bool(link.get("obfuscated", False))
    out["where"] = clean(link.get("where") or "text", MAX_SHORT, collapse=True) or "text"
    out["context"] = clean(link.get("context"), MAX_CONTEXT)
    if "score" in link:
        try:
            out["score"] = min(1.0, max(0.0, float(link["score"])))
        except (TypeError, ValueError):
            return None, "link_bad_score"
    return out, None


class NormalisePipeline:
    """Cleans page fields and links; a bad link is dropped alone, a page without a usable URL is dropped."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def _drop(self, reason: str, n: int = 1) -> None:
        self.stats.inc_value(f"linkwatch/dropped/{reason}", n)

    def process_item(self, item: PageItem) -> PageItem:
        url = clean(item.url, MAX_URL + 1, collapse=True)
        if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
            self._drop("page_bad_url")
            raise DropItem(f"page URL unusable: {url[:80]!r}")
        item.url = url
        if not isinstance(item.fetched_at, datetime):
            self._drop("page_bad_fetched_at")
            raise DropItem("page without a fetch time")
        if item.fetched_at.tzinfo is None:
            item.fetched_at = item.fetched_at.replace(tzinfo=UTC)
        try:
            item.status = int(item.status)
        except (TypeError, ValueError):
            item.status = 0
        item.content_type = clean(item.content_type, 255, collapse=True)
        item.title = clean(item.title, MAX_TITLE, collapse=True)
        links = item.links if isinstance(item.links, list) else []
        if len(links) > MAX_LINKS_PER_PAGE:
            self._drop("link_over_page_limit", len(links) - MAX_LINKS_PER_PAGE)
            links = links[:MAX_LINKS_PER_PAGE]
        kept: list[dict[str, Any]] = []
        for link in links:
            good, reason = normalise_link(link)
            if good is None:
                self._drop(reason or "link_invalid")
            else:
                kept.append(good)
        item.links = kept
        return item
