"""The forum spider's side of the incremental crawl: records each fetched page's state, decides its links."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response
from selectolax.lexbor import LexborHTMLParser, LexborNode

from linkwatch.watch.feeds import MAX_DISCOVERED, feeds_in_page, parse
from linkwatch.watch.plan import Planner
from linkwatch.watch.rows import LinkInfo, is_listing, read_links

STAT = "linkwatch/watch/"


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip()[:500] if value else None


def _row_meta(info: LinkInfo, listing: str, listing_page: int | None) -> dict[str, Any]:
    # Plain values: requests are pickled in a distributed crawl's Redis queue.
    return {"sig": info.signature, "raw": info.raw, "pos": info.position, "listing": listing,
            "listing_page": listing_page}


def _row_info(row: dict[str, Any] | None) -> LinkInfo | None:
    if not row:
        return None
    return LinkInfo("row", row.get("sig") or "", row.get("raw") or "", position=row.get("pos"))


def topic_of(planner: Planner, response: Response, key: str, page_no: int | None) -> None:
    """Tells the planner a page of a topic was read: the topic's row signature and last page move on."""
    meta = response.meta
    topic = meta.get("lw_topic")
    if not topic:
        return
    row = meta.get("lw_row")
    if page_no is None and topic == key:
        page_no = 1
    planner.topic_seen(topic, _row_info(row), row and row.get("listing"), row and row.get("listing_page"),
                       response.url, page_no)


def not_modified(spider: Any, response: Response) -> None:
    """A conditional GET answered 304: the page is as it was; nothing to read or follow."""
    planner: Planner = spider.planner
    key = response.meta.get("lw_key") or spider.views.key(response.url)
    planner.not_modified(key, datetime.now(UTC))
    topic_of(planner, response, key, response.meta.get("lw_page_no"))
    planner.row_read(key, response.url)
    spider.stats.inc_value(STAT + "not_modified")


class WatchedPage:
    """One fetched page under the planner: its state is recorded, then each of its links decided."""

    def __init__(self, spider: Any, tree: LexborHTMLParser, base: str, response: Response,
                 body: bytes) -> None:
        planner: Planner = spider.planner
        meta = response.meta
        self.spider = spider
        self.planner = planner
        self.links = read_links(tree, base, response.url)
        self.listing = is_listing(self.links)
        self.key = meta.get("lw_key") or spider.views.key(response.url)
        page_no = meta.get("lw_page_no")
        via_pager = bool(meta.get("lw_via_pager"))
        self.topic: str | None = None
        if self.listing:
            kind, self.listing_page = "listing", page_no if page_no is not None else (2 if via_pager else 1)
        else:
            self.listing_page = None
            kind = "topic" if meta.get("lw_topic") else "other"
            self.topic = meta.get("lw_topic")
        self.page_no = page_no or self.listing_page or 1
        if planner.state(self.key) is None:
            spider.stats.inc_value(STAT + "new_pages")
        planner.fetched(
            self.key, response.url, sha256=hashlib.sha256(body).hexdigest(),
            etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
            kind=kind, listing_page=self.listing_page, at=datetime.now(UTC),
        )
        topic_of(planner, response, self.key, page_no)
        if not self.listing:
            self._note_last_page()
        planner.row_read(self.key, response.url)
        self.keyed = {url: (spider.views.key(url), info) for url, info in self.links.items()}
        # A changed topic is read from its last known page to its end: that page may not be the last.
        self.tail = bool(self.topic and meta.get("lw_tail"))
        self.changed = planner.page_changed(self.keyed) if self.listing else self.tail
        # Feeds are looked for where a forum advertises them: its index and boards.
        advertising = self.listing or meta.get("lw_start")
        self.feeds = discover_feeds(spider, body, response.url) if advertising else []

    def _note_last_page(self) -> None:
        """A topic's pager names its last page (whether or not this crawl reads it): remembered, so
        that the topic's next change is read from there (also when the page was reached without its
        row, and its row is matched to it later: Planner.row_read)."""
        numbered = [(info.page_no, url) for url, info in self.links.items()
                    if info.role == "pager" and info.page_no is not None]
        if numbered:
            number, url = max(numbered)
            if number > self.page_no:
                self.planner.pagers[self.key] = (number, url)
                if self.topic:
                    self.planner.topic_seen(self.topic, None, None, None, url, number)

    def _info(self, url: str, node: LexborNode) -> LinkInfo:
        info = self.links.get(url.split("#", 1)[0])
        if info is not None:
            if info.role == "row" and not self.listing:
                return LinkInfo("plain")
            return info
        if node.tag == "link":  # <link rel=next|prev>
            return LinkInfo("pager", next="next" in (node.attributes.get("rel") or "").lower().split())
        return LinkInfo("plain")

    def request(self, url: str, depth: int, node: LexborNode) -> Request | None:
        """The request for a link of this page, or None when the planner (or the spider) skips it."""
        info = self._info(url, node)
        key = self.spider.views.key(url)
        next_page = info.next or (info.page_no is not None and info.page_no == self.page_no + 1)
        decision = self.planner.decide(key, url, info, page_changed=self.changed, listing=self.listing,
                                       next_page=next_page)
        if not decision.fetch:
            if info.role == "row":
                self.planner.seen_in_row(key, info, self.key, self.listing_page)
            return None
        meta: dict[str, Any] = {}
        if info.role == "row":
            tail = decision.url is not None and decision.url != url
            meta = {"lw_topic": key, "lw_row": _row_meta(info, self.key, self.listing_page),
                    "lw_page_no": decision.page_no if tail else 1}
            if decision.reason == "changed":
                meta.update(lw_tail=True, lw_whole=True)
        elif info.role == "row_pager" and info.topic and self.listing:
            meta = {"lw_topic": self.spider.views.key(info.topic), "lw_page_no": info.page_no}
        elif info.role in ("pager", "row_pager"):
            number = info.page_no if info.page_no is not None else (self.page_no + 1 if info.next else None)
            meta = {"lw_via_pager": True, "lw_page_no": number}
            if self.topic:
                meta["lw_topic"] = self.topic
                if self.tail and decision.reason == "pager":
                    meta.update(lw_tail=True, lw_whole=True)
        request = self.spider._page_request(decision.url or url, depth, meta=meta)
        if request is not None:
            self.spider.stats.inc_value(STAT + f"fetch_{decision.reason}")
        elif decision.url == url:
            self._row_elsewhere(key, url, info)
        return request

    def seen_again(self, url: str, depth: int, node: LexborNode) -> Request | None:
        """A link this crawl has requested already: a topic's row still counts (a changed topic's last
        page is requested; the row's signature is kept for the topic page)."""
        if self._info(url, node).role != "row":
            return None
        return self.request(url, depth, node)

    def _row_elsewhere(self, key: str, url: str, info: LinkInfo) -> None:
        # The topic is requested (or read) through another link; its row's signature is kept for it.
        if info.role == "row" and key in self.spider.seen:
            self.planner.row_later(key, info, self.key, self.listing_page)
            if key in self.planner.fetched_keys:
                self.planner.row_read(key, url)


# -- feeds and sitemaps ---------------------------------------------------------------------------


def feed_request(spider: Any, url: str) -> Request | None:
    """A request for a feed or sitemap (through the spider's frontier, budget and scope)."""
    request = spider._page_request(url, 0)
    return request.replace(callback=spider.parse_feed) if request is not None else None


def discover_feeds(spider: Any, body: bytes, url: str) -> list[Request]:
    """The feeds a page advertises (<link rel=alternate>) that the source's state does not know yet."""
    out = []
    for link in feeds_in_page(body, url):
        if spider.planner.state(spider.views.key(link.url)) is None:
            request = feed_request(spider, link.url)
            if request is not None:
                spider.stats.inc_value(STAT + "feeds_discovered")
                out.append(request)
    return out


def sitemaps_from_robots(spider: Any, robotparser: Any) -> list[Request]:
    """The `Sitemap:` URLs of a robots.txt the robots middleware parsed, that the state does not know."""
    out = []
    for url in list(getattr(getattr(robotparser, "rp", None), "sitemaps", None) or [])[:MAX_DISCOVERED]:
        if spider.planner.state(spider.views.key(url)) is None:
            request = feed_request(spider, url)
            if request is not None:
                spider.stats.inc_value(STAT + "sitemaps_discovered")
                out.append(request)
    return out


def read_feed(spider: Any, response: Response) -> list[Request]:
    """A feed or sitemap: each entry that is new, or listed with a newer date than last time, is
    fetched (a sitemap index's child sitemaps likewise). Nothing of it is stored as a page."""
    planner: Planner = spider.planner
    if response.status == 304:
        not_modified(spider, response)
        return []
    errors: Counter[str] = Counter()
    document = parse(response.body, response.url, errors=errors)
    for error, n in errors.items():
        spider.stats.inc_value(STAT + f"feed_errors/{error}", n)
    if not document.kind:
        return []
    key = response.meta.get("lw_key") or spider.views.key(response.url)
    kind = "sitemap" if document.kind in ("urlset", "sitemapindex") else "feed"
    planner.fetched(key, response.url, sha256=hashlib.sha256(response.body).hexdigest(),
                    etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
                    kind=kind, listing_page=None, at=datetime.now(UTC))
    out = []
    for entry in document.entries:
        if not planner.from_feed(spider.views.key(entry.url), entry.updated):
            continue
        if document.kind == "sitemapindex":
            request = feed_request(spider, entry.url)
        else:
            request = spider._page_request(entry.url, 1, meta={"lw_whole": True})
        if request is not None:
            spider.stats.inc_value(STAT + "fetch_feed")
            out.append(request)
    return out
