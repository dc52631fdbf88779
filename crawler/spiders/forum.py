"""The generic forum spider: walks a source's boards and threads, hands each page to the extractor."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import CloseSpider, IgnoreRequest, UsageError
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.spidermiddlewares.httperror import HttpError
from selectolax.lexbor import LexborHTMLParser

from linkwatch.assets import OnceCache
from linkwatch.db.journal import Frontier, Journal
from linkwatch.extract import decode, extract, shortener_urls
from linkwatch.posts import found_links
from linkwatch.records import FoundLink, Page
from linkwatch.scope import Scope, ViewIndex, is_media_type, strip_session
from linkwatch.sources import Source, SourcesError, load_sources
from linkwatch.urlrules import account_words, is_account_page, permalink_number, post_numbers
from linkwatch.watch.plan import Planner

logger = logging.getLogger(__name__)

# Only elements a reader navigates through; img/video/audio/source/link rel=icon/og:image never are.
# <link> is read for rel=next/prev only (a pager hint; some engines' anchors are broken without JS).
FOLLOW_SELECTOR = "a[href], area[href], frame[src], iframe[src], link[rel][href]"
PAGER_RELS = frozenset({"next", "prev", "previous"})
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#", "about:", "blob:")
SHORTENER_STATUSES = [301, 302, 303, 307, 308, 200, 404, 405]
SIDE = "lw_side"  # meta of requests made for a page (shortener, browser subresource), not pages


class ForumSpider(Spider):
    """Crawls one Source: static pages through Scrapy, browser pages rendered from what Scrapy fetched.

    Links already seen are skipped before a Request is built (the crawl's main CPU cost otherwise),
    the page budget is counted here (`max_pages` requests at most), depth is tracked in
    `lw_depth`. In a distributed crawl (`shared`) the seen-set and the budget are the run's, in
    Redis, so every worker skips what any worker scheduled and the budget is global.

    The frontier lives in the crawl journal (`journal`, LINKWATCH_JOURNAL_DIR): every URL scheduled,
    and every URL done without a page; a page is done once the store has journaled it. `resume` is
    what an interrupted run left (scheduled and done): its pending URLs are fetched first.

    `scrapy crawl forum -a source=NAME` (Scrapyd) builds it from a source name: the source is read
    from the sources file named by the LINKWATCH_SOURCES setting and its per-source settings are
    applied before the crawl starts.
    """

    name = "forum"

    def __init__(self, source: Source | str | None = None, keywords: list[str] | None = None,
                 resume: Frontier | None = None, planner: Planner | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(source, Source):
            raise UsageError("the forum spider needs a source: scrapy crawl forum -a source=NAME")
        self.source = source
        self.resume = resume
        # The incremental crawl's planner (linkwatch.watch): None in a crawl without url_state
        # (`scrapy crawl`), which then fetches everything as before.
        self.planner = planner
        self.journal: Journal | None = None
        self._scheduled = 0
        self.keywords = list(keywords or [])
        self.allowed_domains = list(source.allowed_domains)
        self.scope = Scope(source.allowed_domains, source.allow, source.deny)
        self.account_words = account_words(source.account_pages)
        self.browser = source.render == "browser"
        self.seen_raw: set[str] = set()
        self.seen: set[str] = set()
        self.views = ViewIndex()
        self.shared: Any = None  # crawler.frontier.SharedRun in a distributed crawl
        self.renderer: Any = None  # crawler.browser.Renderer in browser mode
        self.steps: Any = None
        # A shortener found on many pages is resolved once per crawl.
        self.shorteners: OnceCache[tuple[FoundLink, ...]] = OnceCache(lambda links: 200 * len(links) + 100)

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ForumSpider:
        settings = crawler.settings
        invalid = None
        if not isinstance(kwargs.get("source"), Source):
            # `scrapy crawl forum -a source=NAME`: everything comes from the crawler's settings.
            try:
                path = settings.get("LINKWATCH_SOURCES") or "sources.toml"
                source = _named_source(kwargs.get("source"), path)
            except UsageError as exc:
                # One sentence in the log, no traceback; start() closes the spider at once.
                logger.error("Cannot crawl: %s", exc)
                invalid = str(exc)
                source = Source(name="invalid", start_urls=["http://invalid.invalid/"])
            kwargs["source"] = source
            from crawler.settings import source_settings

            if not settings.frozen:
                settings.setdict(source_settings(source), priority="spider")
            if source.search_urls and "keywords" not in kwargs:
                from linkwatch.lexicon import load_lexicon

                lexicon = settings.get("LINKWATCH_LEXICON")
                kwargs["keywords"] = list(load_lexicon(lexicon).search_terms()) if lexicon else []
        if isinstance(kwargs.get("keywords"), str):  # -a keywords=a,b
            kwargs["keywords"] = [k for k in kwargs["keywords"].split(",") if k]
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.invalid = invalid
        if invalid:
            return spider
        token = settings.get("LINKWATCH_REDIS_TOKEN")
        if token:
            from crawler.frontier import SharedRun

            spider.shared = SharedRun.attach(
                settings["LINKWATCH_REDIS_URL"], spider.source.name, token,
                settings["LINKWATCH_REDIS_WORKER"],
            )
        directory = settings.get("LINKWATCH_JOURNAL_DIR")
        if directory:
            run_id = settings.getint("LINKWATCH_RUN_ID") or None
            spider.journal = Journal(Path(directory), run_id=run_id, source=spider.source.name).open()
        if spider.browser:
            try:
                spider._make_renderer(settings)
            except UsageError as exc:
                logger.error("Cannot crawl %s: %s", spider.source.name, exc)
                spider.invalid = str(exc)
        # e.g. a redirect back to a page already seen: the dupefilter drops it, no callback runs
        crawler.signals.connect(spider._dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._robots_parsed, signal=signals.robots_parsed)
        return spider

    def _make_renderer(self, settings: Any) -> None:
        from crawler.browser import Renderer, steps_for
        from linkwatch.config import find_chromium

        chromium = find_chromium(settings.get("LINKWATCH_CHROMIUM"))
        if not chromium:
            raise UsageError(
                "Chromium not found: install it (apt-get install chromium) or set LINKWATCH_CHROMIUM"
            )
        self.steps = steps_for(self.source)
        self.renderer = Renderer(
            chromium=chromium,
            fetch=self._fetch_for_page,
            stats=_LazyStats(self.crawler),
            tabs=settings.getint("LINKWATCH_BROWSER_TABS", max(1, min(self.source.concurrency, 8))),
            max_uses=settings.getint("LINKWATCH_TAB_MAX_USES", 100),
            page_timeout=self.source.render_timeout,
            settle_ms=settings.getint("LINKWATCH_BROWSER_SETTLE_MS", 250),
            step_timeout=settings.getfloat("LINKWATCH_BROWSER_STEP_TIMEOUT", 8.0),
            asset_cache_bytes=settings.getint("LINKWATCH_BROWSER_ASSET_CACHE_MB", 64) * 1024 * 1024,
            user_agent=settings.get("USER_AGENT"),
        )

    async def _closed(self, spider: Spider) -> None:
        if spider is self and self.renderer is not None:
            await self.renderer.close()

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
            self.views.add_scheduled(url)
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

    def refund_budget(self) -> None:
        """A scheduled page turned out to be one already fetched (crawler.middlewares.views)."""
        if self.shared is None:
            self._scheduled = max(0, self._scheduled - 1)

    # -- requests -------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        if getattr(self, "invalid", None):
            raise CloseSpider("bad_source")
        self.stats.set_value("linkwatch/page_budget", self.source.max_pages)
        if self.resume is not None:
            for request in self._resume(self.resume):
                yield request
        urls = list(self.source.start_urls)
        if self.source.search_urls and self.keywords:
            urls += self.source.search_requests(self.keywords)
        for url in urls:
            request = self._page_request(url, depth=0, check_scope=False)
            if request is not None:
                request.meta["lw_start"] = True
                yield request
        if self.planner is not None:
            for request in self._watch_start():
                yield request

    def _page_request(self, url: str, depth: int, *, check_scope: bool = True,
                      meta: dict[str, Any] | None = None) -> Request | None:
        if url in self.seen_raw:
            return None
        self.seen_raw.add(url)
        if check_scope:
            if not self.scope.follows(url):
                return None
            if is_account_page(url, self.account_words):
                self.stats.inc_value("linkwatch/skipped_account_pages")
                return None
        key = self.views.key(url)
        if key in self.seen or self.views.already_fetched(url):
            return None
        self.seen.add(key)
        if self.shared is not None and not self.shared.claim(key):
            return None  # another worker of this run already scheduled it
        if depth > self.source.max_depth or not self._take_budget():
            return None
        self.views.add_scheduled(url)
        url = strip_session(url).split("#", 1)[0]
        journal = self._frontier_journal()
        if journal is not None:
            journal.scheduled(key, url, depth)
        request = self._build(url, depth, key=key)
        if meta:
            request.meta.update(meta)
        if self.planner is not None and not request.meta.get("lw_whole"):
            headers = self.planner.conditional_headers(key)
            if headers:
                # A 304 is an answer here (parse), not an error for HttpErrorMiddleware to drop.
                request.headers.update(headers)
                request.meta["handle_httpstatus_list"] = [304]
        return request

    def _build(self, url: str, depth: int, *, key: str, dont_filter: bool = False) -> Request:
        return Request(
            url, callback=self.parse, errback=self.failed, meta={"lw_depth": depth, "lw_key": key},
            priority=-depth, dont_filter=dont_filter,
        )

    def failed(self, failure: Any) -> None:
        from crawler.middlewares.views import DuplicateView

        self._done(getattr(failure, "request", None))
        if failure.check(DuplicateView):
            return  # counted by the middleware
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

    async def parse(self, response: Response) -> AsyncIterator[Any]:
        if response.status == 304:
            self._not_modified(response)
            return
        ctype = _content_type(response)
        if ctype.split(";")[0].strip() not in PAGE_TYPES or is_media_type(ctype):
            self.stats.inc_value("linkwatch/skipped_not_page")
            self._done(response.request)
            return
        body = response.body
        text = decode(body, ctype, self.source.encoding)
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items()
                        for v in values)
        rendered = False
        if self.renderer is not None and _is_html(ctype, text):
            result = await self.renderer.render(response.url, response.status, list(headers), body,
                                                self.steps)
            if result.html is not None:
                text, rendered = result.html, True
                body, ctype = text.encode("utf-8", "surrogatepass"), "text/html; charset=utf-8"
            else:
                # Lose nothing: the page as fetched is stored and read instead of its render.
                self.stats.inc_value("linkwatch/errors")
                self.stats.inc_value("linkwatch/browser/render_failed")
                logger.warning("Could not render %s twice (%s); reading the page as fetched", response.url,
                               result.error)
        # A page as fetched goes in as bytes: the extractor's prefilter reads them without a decode.
        content = text if rendered else body
        found = extract(content, base_url=response.url, content_type=ctype, encoding=self.source.encoding)
        tree = LexborHTMLParser(text) if "html" in ctype or not ctype else None
        links = found_links(found, tree, response.url)  # one per post that carries each link
        item = Page(
            url=response.url, fetched_at=datetime.now(UTC), status=response.status, content_type=ctype,
            body=body, headers=headers, rendered=rendered, title=_title(tree), links=links,
            key=response.meta.get("lw_key"),
        )
        self.stats.inc_value("linkwatch/pages")
        self.views.add_fetched(response.url, response.meta.get("redirect_urls") or (),
                               _canonical_href(tree, response.url))
        if tree is not None:
            for request in self._follow(tree, response, response.body):
                yield request
        pending = list(dict.fromkeys(shortener_urls(text, response.url)))
        for url in pending:
            found = await self.shorteners.get(url, lambda u=url: self._resolve_shortener(u))
            if found:
                item = replace(item, links=item.links + found)
        # Not done yet: the page is done once the store has journaled it (pipelines.store).
        yield item

    def _watch_start(self) -> Iterator[Request]:
        """An incremental crawl reads every board's first page (where new topics and bumped ones
        appear) and the feeds and sitemaps the source offers; a full crawl looks for sitemaps."""
        from crawler.watching import feed_request

        assert self.planner is not None
        if not self.planner.incremental:
            return  # sitemaps are found in robots.txt (_robots_parsed), feeds on the pages
        for state in self.planner.listings():
            request = self._page_request(state.fetch_url, depth=1)
            if request is not None:
                yield request
        for state in self.planner.feeds():
            request = feed_request(self, state.fetch_url)
            if request is not None:
                yield request

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """A feed or sitemap (crawler.watching.read_feed): the pages it says changed are requested."""
        from crawler.watching import read_feed

        if self.planner is not None:
            yield from read_feed(self, response)
        self._done(response.request)

    def _robots_parsed(self, robotparser: Any, request: Request) -> None:
        """A full crawl reads robots.txt's `Sitemap:` lines (from the robots middleware's own copy)."""
        from crawler.watching import sitemaps_from_robots

        if self.planner is None or self.planner.incremental or self.crawler.engine is None:
            return
        for sitemap in sitemaps_from_robots(self, robotparser):
            self.crawler.engine.crawl(sitemap)

    def _watch_page(self, tree: LexborHTMLParser, base: str, response: Response, body: bytes) -> Any:
        from crawler.watching import WatchedPage

        return WatchedPage(self, tree, base, response, body)

    def _not_modified(self, response: Response) -> None:
        from crawler.watching import not_modified

        if self.planner is not None:
            not_modified(self, response)
        self._done(response.request)  # nothing to store: the page is as the last crawl stored it

    def _follow(self, tree: LexborHTMLParser, response: Response, body: bytes = b"") -> list[Request]:
        depth = response.meta.get("lw_depth", 0) + 1
        base = response.url
        base_node = tree.css_first("base[href]")
        if base_node is not None:
            base = urljoin(base, (base_node.attributes.get("href") or "").strip())
        watch = self._watch_page(tree, base, response, body) if self.planner is not None else None
        if depth > self.source.max_depth:
            return watch.feeds if watch is not None else []
        posts: set[str] | None = None  # post numbers shown on this page, read when first needed
        requests = []
        for node in tree.css(FOLLOW_SELECTOR):
            attrs = node.attributes
            if node.tag == "link":
                if not PAGER_RELS & set((attrs.get("rel") or "").lower().split()):
                    continue
                href = attrs.get("href")
            else:
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
            if url in self.seen_raw:
                # A topic's row still counts: its signature, and a changed topic's last page.
                again = watch.seen_again(url, depth, node) if watch is not None else None
                if again is not None:
                    requests.append(again)
                continue
            number = _post_link_number(url)
            if number is not None:
                if posts is None:
                    posts = _page_post_numbers(tree)
                if number in posts:
                    # A post's permalink on the page that shows the post: it leads back here.
                    self.seen_raw.add(url)
                    self.stats.inc_value("linkwatch/skipped_permalinks")
                    continue
            request = self._page_request(url, depth) if watch is None else watch.request(url, depth, node)
            if request is not None:
                requests.append(request)
        for node in tree.css("meta[http-equiv]"):
            if (node.attributes.get("http-equiv") or "").strip().lower() != "refresh":
                continue
            target = _refresh_target(node.attributes.get("content") or "")
            if target:
                request = self._page_request(urljoin(base, target), depth)
                if request is not None:
                    requests.append(request)
        return requests + watch.feeds if watch is not None else requests

    # -- requests made for a page ---------------------------------------------------------------

    async def _side_request(self, request: Request) -> Response:
        request.meta[SIDE] = True
        return await self.crawler.engine.download_async(request)

    async def _resolve_shortener(self, url: str) -> tuple[FoundLink, ...]:
        """One HEAD request (no redirect followed); the target is judged by the extractor."""
        request = Request(url, method="HEAD", callback=NO_CALLBACK, dont_filter=True, priority=10, meta={
            "dont_redirect": True, "handle_httpstatus_list": SHORTENER_STATUSES, "allow_offsite": True,
            "dont_retry": True,
        })
        try:
            response = await self._side_request(request)
        except Exception as exc:  # refused, unreachable, timed out: the page keeps its other links
            self.stats.inc_value("linkwatch/shorteners_failed")
            logger.debug("shortener %s: %s", url, exc)
            return ()
        self.stats.inc_value("linkwatch/shorteners_resolved")
        location = response.headers.get(b"Location")
        if not location:
            return ()
        target = urljoin(response.url, location.decode("latin-1").strip())
        return tuple(
            replace(FoundLink.from_extracted(link), raw=response.url, where="redirect",
                    context=f"{response.url} → {target}")
            for link in extract(target)
        )

    async def _fetch_for_page(self, url: str, headers: dict[str, str], kind: str, method: str) -> Any:
        """A rendered page's script, stylesheet or script request, fetched by linkwatch (browser.Fetch):
        robots.txt checked (unless the source allows page requests past it), media refused at the
        headers and first bytes, redirects followed, no cookie sent. None when refused or failed."""
        from crawler.browser import Fetched
        from crawler.middlewares.media import MediaRefused

        meta: dict[str, Any] = {"allow_offsite": True, "handle_httpstatus_all": True, "lw_subresource": kind}
        if not self.source.browser_obey_robots:
            meta["dont_obey_robotstxt"] = True
        request = Request(url, method=method, headers=headers, callback=NO_CALLBACK, dont_filter=True,
                          priority=5, meta=meta)
        try:
            response = await self._side_request(request)
        except MediaRefused:
            self.stats.inc_value("linkwatch/browser/media_refused")
            return None
        except IgnoreRequest as exc:
            if "robots.txt" in str(exc):
                self.stats.inc_value("linkwatch/browser/robots_refused")
                logger.debug("page request %s refused by robots.txt", url)
            else:
                self.stats.inc_value("linkwatch/browser/refused")
            return None
        except Exception as exc:  # unreachable, timed out: the page renders without it
            self.stats.inc_value("linkwatch/browser/request_failed")
            logger.debug("page request %s failed: %s", url, exc)
            return None
        headers_out = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items()
                       for v in values]
        return Fetched(response.status, headers_out, response.body)


class _LazyStats:
    """The crawler's stats collector, looked up when used (it is made after the spider)."""

    def __init__(self, crawler: Any) -> None:
        self._crawler = crawler

    def inc_value(self, key: str, count: int = 1) -> None:
        self._crawler.stats.inc_value(key, count)

    def set_value(self, key: str, value: Any) -> None:
        self._crawler.stats.set_value(key, value)


def _named_source(name: Any, path: str) -> Source:
    if not isinstance(name, str) or not name:
        raise UsageError("the forum spider needs a source: scrapy crawl forum -a source=NAME")
    try:
        sources = {s.name: s for s in load_sources(Path(path))}
    except SourcesError as exc:
        raise UsageError(str(exc)) from None
    if name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise UsageError(f"no source named {name!r} in {path} (sources: {known}); set LINKWATCH_SOURCES")
    return sources[name]


def _content_type(response: Response) -> str:
    raw = response.headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").strip().lower()


def _is_html(ctype: str, text: str) -> bool:
    if ctype:
        return "html" in ctype
    return "<html" in text[:2048].lower() or "<!doctype" in text[:2048].lower()


def _canonical_href(tree: LexborHTMLParser | None, url: str) -> str | None:
    """The page's own `<link rel=canonical>`, when it names a page of the same host."""
    if tree is None:
        return None
    for node in tree.css("link[rel][href]"):
        if "canonical" in (node.attributes.get("rel") or "").lower().split():
            try:
                target = urljoin(url, (node.attributes.get("href") or "").strip())
            except ValueError:
                return None
            same = urlsplit(target).netloc.lower() == urlsplit(url).netloc.lower()
            return target if same and target.startswith(("http://", "https://")) else None
    return None


def _post_link_number(url: str) -> str | None:
    """The post number a link names: from a post-like fragment (#p123, #post-123) or a permalink path."""
    _base, _sep, fragment = url.partition("#")
    if fragment:
        numbers = post_numbers([fragment])
        if numbers:
            return next(iter(numbers))
    return permalink_number(_base)


def _page_post_numbers(tree: LexborHTMLParser) -> set[str]:
    ids = [n.attributes.get("id") or "" for n in tree.css("[id]")]
    data = [n.attributes.get(a) or "" for a in ("data-pid", "data-post-id")
            for n in tree.css(f"[{a}]")]
    return post_numbers(ids, data)


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
