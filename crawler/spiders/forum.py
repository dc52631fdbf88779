"""The generic forum spider: walks a source's boards and threads, hands each page to the extractor."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from scrapy import Request, Spider, signals
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from selectolax.lexbor import LexborHTMLParser

from linkwatch.db.journal import Frontier, Journal
from linkwatch.extract import decode, extract, shortener_urls
from linkwatch.records import FoundLink, Page
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

    The frontier lives in the crawl journal (`journal`, LINKWATCH_JOURNAL_DIR): every URL scheduled,
    and every URL done without a page; a page is done once the store has journaled it. `resume` is
    what an interrupted run left (scheduled and done): its pending URLs are fetched first.
    """

    name = "forum"

    def __init__(self, source: Source, keywords: list[str] | None = None, resume: Frontier | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.resume = resume
        self.journal: Journal | None = None
        self._scheduled = 0
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
        directory = crawler.settings.get("LINKWATCH_JOURNAL_DIR")
        if directory:
            run_id = crawler.settings.getint("LINKWATCH_RUN_ID") or None
            spider.journal = Journal(Path(directory), run_id=run_id, source=spider.source.name).open()
        # e.g. a redirect back to a page already seen: the dupefilter drops it, no callback runs
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        return spider

    def closed(self, reason: str) -> None:
        # After the pipelines have closed: the store's last records are in; make them durable.
        if self.journal is not None and not self.journal.close():
            logger.error("the crawl journal %s could not be written to the end", self.journal.directory)

    # -- the frontier (crawl journal) ----------------------------------------------------------
    # A distributed crawl keeps its frontier in Redis; only its pages are journaled (by the store).

    def _frontier_journal(self) -> Journal | None:
        return self.journal if self.shared is None else None

    def _dropped(self, request: Request, spider: Spider) -> None:
        if spider is self:
            self._done(request)

    def _done(self, request: Request | None) -> None:
        """The request's URL gave no page (an error, a refusal, not a page): done, nothing to store."""
        key = request.meta.get("lw_key") if request is not None else None
        journal = self._frontier_journal()
        if key is not None and journal is not None:
            journal.done(key)

    def _resume(self, frontier: Frontier) -> Iterator[Request]:
        """Takes over an interrupted run's frontier: journaled again (so a second kill loses nothing),
        made durable, then its pending URLs requested first; the old journals are then removed."""
        self.seen = set(frontier.scheduled)
        self._scheduled = len(frontier.scheduled)
        journal = self._frontier_journal()
        if journal is not None:
            for key, (url, depth) in frontier.scheduled.items():
                journal.scheduled(key, url, depth)
            for key in frontier.done:
                journal.done(key)
            if journal.flush(timeout=60):
                frontier.discard()
        pending = frontier.pending()
        self.stats.set_value("linkwatch/resumed_pending", len(pending))
        for key, url, depth in pending:
            self.seen_raw.add(url)
            yield self._build(url, depth, key=key, dont_filter=True)

    # -- budget ---------------------------------------------------------------------------------

    def _take_budget(self) -> bool:
        if self.shared is not None:
            # Distributed: one budget for the whole run, counted in Redis.
            if self.shared.take_budget(self.source.max_pages):
                return True
            self.stats.inc_value("linkwatch/page_limit_skipped")
            return False
        if self._scheduled >= self.source.max_pages:
            self.stats.inc_value("linkwatch/page_limit_skipped")
            return False
        self._scheduled += 1
        return True

    # -- requests -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        if self.resume is not None:
            for request in self._resume(self.resume):
                yield request
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
        url = strip_session(url).split("#", 1)[0]
        journal = self._frontier_journal()
        if journal is not None:
            journal.scheduled(key, url, depth)
        return self._build(url, depth, key=key)

    def _build(self, url: str, depth: int, *, key: str, dont_filter: bool = False) -> Request:
        meta = {"lw_depth": depth, "lw_key": key}
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
        links = tuple(FoundLink.from_extracted(link) for link in extract(text, base_url=response.url))
        tree = LexborHTMLParser(text) if "html" in ctype or not ctype else None
        item = Page(
            url=response.url,
            fetched_at=datetime.now(UTC),
            status=response.status,
            content_type=ctype,
            body=body,
            headers=tuple(
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, values in response.headers.items()
                for v in values
            ),
            rendered=rendered,
            title=_title(tree),
            links=links,
            key=response.meta.get("lw_key"),
        )
        self.stats.inc_value("linkwatch/pages")
        if tree is not None:
            yield from self._follow(tree, response)
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

    def _shortener_request(self, item: Page, pending: list[str]) -> Request:
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
            },
            cb_kwargs={"item": item, "pending": pending[1:]},
        )

    def shortener_resolved(self, response: Response, item: Page, pending: list[str]) -> Iterator[Any]:
        location = response.headers.get(b"Location")
        self.stats.inc_value("linkwatch/shorteners_resolved")
        if location:
            target = urljoin(response.url, location.decode("latin-1").strip())
            found = tuple(
                replace(FoundLink.from_extracted(link), raw=response.url, where="redirect",
                        context=f"{response.url} → {target}")
                for link in extract(target)
            )
            item = replace(item, links=item.links + found)
        yield self._continue(item, pending)

    def shortener_failed(self, failure: Any) -> Iterator[Any]:
        self.stats.inc_value("linkwatch/shorteners_failed")
        kwargs = failure.request.cb_kwargs
        yield self._continue(kwargs["item"], kwargs["pending"])

    def _continue(self, item: Page, pending: list[str]) -> Any:
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
