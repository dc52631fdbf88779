"""The generic forum spider: walks a source's boards and threads, hands each page to the extractor."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider, signals
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from selectolax.lexbor import LexborHTMLParser

from linkwatch.extract import decode, extract, shortener_urls
from linkwatch.records import PageItem
from linkwatch.scope import Scope, canonical, is_media_type, strip_session
from linkwatch.sources import Source

logger = logging.getLogger(__name__)

# Only elements a reader navigates through; img/video/audio/source/link rel=icon/og:image never are.
FOLLOW_SELECTOR = "a[href], area[href], frame[src], iframe[src]"
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#", "about:", "blob:")
SHORTENER_STATUSES = [301, 302, 303, 307, 308, 200, 404, 405]


class ForumSpider(Spider):
    """Crawls one Source: static pages through Scrapy, browser pages through scrapy-playwright.

    Links already seen are skipped before a Request is built (the crawl's main CPU cost otherwise),
    the page budget is counted here (`max_pages` requests at most), depth is tracked in
    `lw_depth`. In a distributed crawl (`shared`) the seen-set and the budget are the run's, in
    Redis, so every worker skips what any worker scheduled and the budget is global. In browser
    mode every URL is first checked statically (headers only) so Chromium
    never navigates to something that answers image/video/audio.
    """

    name = "forum"

    def __init__(self, source: Source, keywords: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.keywords = list(keywords or [])
        self.allowed_domains = list(source.allowed_domains)
        self.scope = Scope(source.allowed_domains, source.allow, source.deny)
        self.browser = source.render == "browser"
        self.seen_raw: set[str] = set()
        self.seen: set[str] = set()
        self.page_steps: list[Any] = []
        self.shared: Any = None  # crawler.frontier.SharedRun in a distributed crawl
        if self.browser:
            from crawler.browser import page_steps

            self.page_steps = page_steps(source.wait_for, source.click, source.scroll)

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ForumSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        token = crawler.settings.get("LINKWATCH_REDIS_TOKEN")
        if token:
            from crawler.frontier import SharedRun

            spider.shared = SharedRun.attach(
                crawler.settings["LINKWATCH_REDIS_URL"], spider.source.name, token,
                crawler.settings["LINKWATCH_REDIS_WORKER"],
            )
        crawler.signals.connect(spider._reached_downloader, signal=signals.request_reached_downloader)
        # e.g. a redirect back to a page already seen: the dupefilter drops it, no callback runs
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        return spider

    # -- in-flight pages (resume) ---------------------------------------------------------------
    # Scrapy's JOBDIR keeps the queue, but a request being downloaded at Ctrl-C is neither queued
    # nor done (and its URL is already in the dupefilter): without this it would be lost on resume.

    def _inflight(self) -> dict[str, int] | None:
        state = getattr(self, "state", None)
        return state.setdefault("inflight", {}) if state is not None else None

    def _reached_downloader(self, request: Request, spider: Spider) -> None:
        key = request.meta.get("lw_key")
        inflight = self._inflight() if spider is self else None
        if key is not None and inflight is not None:
            inflight[key] = request.meta.get("lw_depth", 0)

    def _dropped(self, request: Request, spider: Spider) -> None:
        if spider is self:
            self._done(request)

    def _done(self, request: Request | None) -> None:
        key = request.meta.get("lw_key") if request is not None else None
        inflight = self._inflight()
        if key is not None and inflight is not None:
            inflight.pop(key, None)

    # -- budget ---------------------------------------------------------------------------------

    def _take_budget(self) -> bool:
        if self.shared is not None:
            # Distributed: one budget for the whole run, counted in Redis.
            if self.shared.take_budget(self.source.max_pages):
                return True
            self.stats.inc_value("linkwatch/page_limit_skipped")
            return False
        state = getattr(self, "state", None)
        count = state.get("scheduled", 0) if state is not None else getattr(self, "_scheduled", 0)
        if count >= self.source.max_pages:
            self.stats.inc_value("linkwatch/page_limit_skipped")
            return False
        if state is not None:
            state["scheduled"] = count + 1
        else:
            self._scheduled = count + 1
        return True

    # -- requests -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        state = getattr(self, "state", None)
        if state is not None:
            # JOBDIR: the seen-set outlives the process, so a resumed crawl does not spend its page
            # budget again on links the interrupted run already scheduled.
            self.seen = state.setdefault("seen", set())
        inflight = self._inflight() or {}
        for url, depth in list(inflight.items()):
            # Resumed crawl: pages that were downloading when the last run stopped.
            self.seen_raw.add(url)
            self.seen.add(canonical(url))
            yield self._build(url, depth, dont_filter=True)
        urls = list(self.source.start_urls)
        if self.source.search_urls and self.keywords:
            urls += self.source.search_requests(self.keywords)
        for url in urls:
            request = self._page_request(url, depth=0, check_scope=False)
            if request is not None:
                yield request

    def _page_request(self, url: str, depth: int, *, check_scope: bool = True) -> Request | None:
        if url in self.seen_raw:
            return None
        self.seen_raw.add(url)
        if check_scope and not self.scope.follows(url):
            return None
        key = canonical(url)
        if key in self.seen:
            return None
        self.seen.add(key)
        if self.shared is not None and not self.shared.claim(key):
            return None  # another worker of this run already scheduled it
        if depth > self.source.max_depth or not self._take_budget():
            return None
        return self._build(strip_session(url).split("#", 1)[0], depth)

    def _build(self, url: str, depth: int, *, dont_filter: bool = False) -> Request:
        meta = {"lw_depth": depth, "lw_key": url}
        callback = self.parse
        if self.browser:
            meta["lw_preflight"] = True
            callback = self.preflighted
        return Request(
            url, callback=callback, errback=self.failed, meta=meta, priority=-depth, dont_filter=dont_filter
        )

    def _render_request(self, response: Response) -> Request:
        meta = {
            "lw_depth": response.meta["lw_depth"],
            "lw_key": response.meta.get("lw_key"),
            "playwright": True,
            "playwright_page_methods": list(self.page_steps),
            # Chromium follows HTTP redirects itself; what this stops is Scrapy's meta-refresh
            # middleware sending a rendered page's <meta http-equiv=refresh> target straight back
            # to Chromium (playwright meta copied) with no header check: an /attach?id=1 answering
            # image/jpeg would reach Chromium. _follow sends the target through the preflight.
            "dont_redirect": True,
        }
        # dont_filter: the preflight already took this URL's fingerprint.
        return Request(
            response.url,
            callback=self.parse,
            errback=self.failed,
            meta=meta,
            dont_filter=True,
            priority=-response.meta["lw_depth"],
        )

    def preflighted(self, response: Response) -> Iterator[Request]:
        """Browser mode: the URL answered with a page type, so Chromium may render it."""
        ctype = _content_type(response)
        if is_media_type(ctype) or ctype.split(";")[0].strip() not in PAGE_TYPES:
            self.stats.inc_value("linkwatch/skipped_not_page")
            self._done(response.request)
            return
        yield self._render_request(response)

    def failed(self, failure: Any) -> None:
        from scrapy.exceptions import IgnoreRequest

        self._done(getattr(failure, "request", None))
        if failure.check(IgnoreRequest):
            # robots.txt, offsite redirects, refused media: decisions, not errors.
            self.stats.inc_value("linkwatch/ignored")
            return
        if failure.check(HttpError) and failure.value.response.status < 500:
            # dead links and forbidden boards are the forum's state, not a crawl error
            self.stats.inc_value(f"linkwatch/http_{failure.value.response.status}")
            return
        self.stats.inc_value("linkwatch/errors")
        request = getattr(failure, "request", None)
        logger.info("Failed %s: %s", getattr(request, "url", "?"), failure.getErrorMessage())

    # -- pages ----------------------------------------------------------------------------------

    def parse(self, response: Response) -> Iterator[Any]:
        ctype = _content_type(response)
        if ctype.split(";")[0].strip() not in PAGE_TYPES:
            self.stats.inc_value("linkwatch/skipped_not_page")
            self._done(response.request)
            return
        rendered = "playwright" in response.flags
        if rendered:
            text = response.text
            body = text.encode("utf-8")
            ctype = "text/html; charset=utf-8"
        else:
            body = response.body
            text = decode(body, ctype, self.source.encoding)
        links = [link.as_dict() for link in extract(text, base_url=response.url)]
        tree = LexborHTMLParser(text) if "html" in ctype or not ctype else None
        item = PageItem(
            url=response.url,
            fetched_at=datetime.now(UTC),
            status=response.status,
            content_type=ctype,
            body=body,
            headers=[
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, values in response.headers.items()
                for v in values
            ],
            rendered=rendered,
            title=_title(tree),
            links=links,
        )
        self.stats.inc_value("linkwatch/pages")
        if tree is not None:
            yield from self._follow(tree, response)
        self._done(response.request)
        pending = shortener_urls(text, response.url)
        if pending:
            yield self._shortener_request(item, list(dict.fromkeys(pending)))
        else:
            yield item

    def _follow(self, tree: LexborHTMLParser, response: Response) -> Iterator[Request]:
        depth = response.meta.get("lw_depth", 0) + 1
        if depth > self.source.max_depth:
            return
        base = response.url
        base_node = tree.css_first("base[href]")
        if base_node is not None:
            base = urljoin(base, (base_node.attributes.get("href") or "").strip())
        for node in tree.css(FOLLOW_SELECTOR):
            attrs = node.attributes
            href = attrs.get("href") if node.tag in ("a", "area") else attrs.get("src")
            if not href:
                continue
            href = href.strip()
            if not href or href.lower().startswith(SKIP_SCHEMES):
                continue
            try:
                url = urljoin(base, href)
            except ValueError:
                continue
            request = self._page_request(url, depth)
            if request is not None:
                yield request
        if "playwright" in response.flags:
            for node in tree.css("meta[http-equiv]"):
                if (node.attributes.get("http-equiv") or "").strip().lower() != "refresh":
                    continue
                target = _refresh_target(node.attributes.get("content") or "")
                if target:
                    request = self._page_request(urljoin(base, target), depth)
                    if request is not None:
                        yield request

    # -- shorteners -----------------------------------------------------------------------------

    def _shortener_request(self, item: PageItem, pending: list[str]) -> Request:
        """One HEAD request per shortener URL, chained; the page item is yielded after the last."""
        return Request(
            pending[0],
            method="HEAD",
            callback=self.shortener_resolved,
            errback=self.shortener_failed,
            dont_filter=True,
            priority=10,
            meta={
                "dont_redirect": True,
                "handle_httpstatus_list": SHORTENER_STATUSES,
                "allow_offsite": True,
                "dont_retry": True,
                "lw_item": item,
                "lw_pending": pending[1:],
            },
        )

    def shortener_resolved(self, response: Response) -> Iterator[Any]:
        item: PageItem = response.meta["lw_item"]
        location = response.headers.get(b"Location")
        self.stats.inc_value("linkwatch/shorteners_resolved")
        if location:
            target = urljoin(response.url, location.decode("latin-1").strip())
            for link in extract(target):
                found = link.as_dict()
                found["raw"] = response.url
                found["where"] = "redirect"
                found["context"] = f"{response.url} → {target}"
                item.links.append(found)
        yield self._continue(item, response.meta["lw_pending"])

    def shortener_failed(self, failure: Any) -> Iterator[Any]:
        self.stats.inc_value("linkwatch/shorteners_failed")
        request = failure.request
        yield self._continue(request.meta["lw_item"], request.meta["lw_pending"])

    def _continue(self, item: PageItem, pending: list[str]) -> Any:
        return self._shortener_request(item, pending) if pending else item


def _content_type(response: Response) -> str:
    raw = response.headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").strip().lower()


def _refresh_target(content: str) -> str:
    """The URL of a meta refresh's content ("5; url=/next"), or "" when it only reloads."""
    _delay, sep, rest = content.partition(";")
    if not sep:
        return ""
    rest = rest.strip()
    if rest[:4].lower() == "url=":
        rest = rest[4:].strip()
    return rest.strip("'\"").strip()


def _title(tree: LexborHTMLParser | None) -> str:
    if tree is None:
        return ""
    node = tree.css_first("title")
    return " ".join(node.text().split())[:500] if node is not None else ""
