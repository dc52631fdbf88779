"""NormalisePipeline (200): makes hostile page text safe for PostgreSQL and drops malformed links, counted."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from linkwatch.records import FoundLink, Page

# PostgreSQL text rejects NUL; other C0/C1 controls and lone surrogates break terminals, CSV and JSON.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACE_RUN = re.compile(r"\s+")

MAX_URL = 4096
MAX_TITLE = 1000
MAX_CONTEXT = 2000
MAX_RAW = 2000
MAX_CODE = 512
MAX_SHORT = 64  # platform, kind, where
MAX_POST_KEY = 2000  # linkwatch.posts keys: a host and a number, or a page URL (<= 1500) and a hash
# Every distinct link of a page is stored (the response size limit bounds them); a page with more than
# this many is unusual enough to say so (a link farm, or a decoy hiding a real invite among fakes).
UNUSUALLY_FULL = 1000


def clean(value: object, limit: int, *, collapse: bool = False) -> str:
    """Text with control characters removed (newlines and tabs kept unless collapsed), capped at `limit`."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _CONTROL.sub("", text[: limit * 4])
    if collapse:
        text = _SPACE_RUN.sub(" ", text).strip()
    return text[:limit]


def normalise_link(link: object) -> tuple[FoundLink | None, str | None]:
    """The link with every field cleaned and capped, or (None, reason) when it cannot be stored."""
    if not isinstance(link, FoundLink):
        return None, "link_not_a_record"
    for name in ("platform", "kind", "code", "url"):
        value = getattr(link, name)
        if not isinstance(value, str) or not value.strip():
            return None, f"link_missing_{name}"
    url = clean(link.url, MAX_URL + 1, collapse=True)
    if len(url) > MAX_URL:
        return None, "link_url_too_long"
    if not url.lower().startswith(("http://", "https://", "tg://")):
        return None, "link_bad_url"
    platform = clean(link.platform, MAX_SHORT, collapse=True).lower()
    kind = clean(link.kind, MAX_SHORT, collapse=True).lower()
    code = clean(link.code, MAX_CODE, collapse=True)
    if not (platform and kind and code):
        return None, "link_empty_field"
    try:
        score = min(1.0, max(0.0, float(link.score)))
    except (TypeError, ValueError):
        return None, "link_bad_score"
    return FoundLink(
        platform=platform, kind=kind, code=code, url=url, raw=clean(link.raw or url, MAX_RAW),
        obfuscated=bool(link.obfuscated),
        where=clean(link.where or "text", MAX_SHORT, collapse=True) or "text",
        context=clean(link.context, MAX_CONTEXT), score=score,
        post=clean(link.post, MAX_POST_KEY, collapse=True),
    ), None


class NormalisePipeline:
    """Cleans page fields and links; a bad link is dropped alone, a page without a usable URL is dropped."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def _drop(self, reason: str, n: int = 1) -> None:
        self.stats.inc_value(f"linkwatch/dropped/{reason}", n)

    def process_item(self, item: Page) -> Page:
        url = clean(item.url, MAX_URL + 1, collapse=True)
        if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
            self._drop("page_bad_url")
            raise DropItem(f"page URL unusable: {url[:80]!r}")
        if not isinstance(item.fetched_at, datetime):
            self._drop("page_bad_fetched_at")
            raise DropItem("page without a fetch time")
        fetched_at = item.fetched_at if item.fetched_at.tzinfo else item.fetched_at.replace(tzinfo=UTC)
        try:
            status = int(item.status)
        except (TypeError, ValueError):
            status = 0
        kept: list[FoundLink] = []
        for link in item.links:
            good, reason = normalise_link(link)
            if good is None:
                self._drop(reason or "link_invalid")
            else:
                kept.append(good)
        if len(kept) > UNUSUALLY_FULL:
            self.stats.inc_value("linkwatch/full_pages")
            self.stats.max_value("linkwatch/most_links_on_a_page", len(kept))
        return replace(
            item, url=url, fetched_at=fetched_at, status=status,
            content_type=clean(item.content_type, 255, collapse=True),
            title=clean(item.title, MAX_TITLE, collapse=True), links=tuple(kept),
        )
