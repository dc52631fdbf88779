"""Browser mode: Chromium renders pages linkwatch fetched itself, and can fetch nothing on its own.

How a page is rendered:
- The spider fetches the page once through Scrapy (media refused at the headers and at the first
  bytes, robots.txt obeyed) and hands the body to `Renderer.render`.
- Chromium is started with its proxy set to a black hole of our own on 127.0.0.1 (loopback not
  bypassed): any request Chromium makes outside the page routes below (favicons, manifest icons,
  prefetch and prerender, link previews, service workers, its own update and account pings) goes
  there, is closed unanswered and counted. Nothing reaches a forum that way.
- Each tab's route (its own CDP session, `crawler.tabroute`) answers every request its page makes:
  the page's own document from the body Scrapy fetched; scripts and stylesheets from a per-crawl
  bounded cache (each fetched once, through Scrapy); a script's GET fetch/XHR through Scrapy
  (robots.txt checked, media refused at headers and first bytes); everything else (images, media,
  fonts, frames, other navigations, prefetches, favicons, beacons, websockets, any non-GET) is
  aborted. A tab waiting in the pool for its next page gets every request aborted. Not a Playwright
  route, which would turn Chromium's cache off: with it on, a tab takes a script it was given for
  an earlier page from Blink's memory cache, compiled code and all, without asking anyone.
- After the load and after each reveal step (click, scroll), the page is left until it is quiet:
  no request in flight, none of its own fetch/XHR pending and no DOM change for `settle_ms`
  (bounded by `step_timeout`). A scroll that brought nothing is given until `SCROLL_GRACE` after it
  before the board counts as ended (debounced handlers, tabs drawing frames late). A render that
  fails is retried once in a fresh tab; a second failure is one log line naming the URL, and the
  spider reads the page as fetched instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from crawler.tabroute import Paused, TabRoute
from linkwatch.assets import OnceCache

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--mute-audio",
    # Blink never even asks for images (they would be aborted anyway; asking costs a round trip).
    "--blink-settings=imagesEnabled=false",
]

ASSET_TYPES = frozenset({"script", "stylesheet"})
SCRIPT_REQUEST_TYPES = frozenset({"fetch", "xhr"})
READ_METHODS = frozenset({"GET", "HEAD"})
# Request headers passed on to linkwatch's own fetch; never Cookie (linkwatch sends none).
FORWARD_HEADERS = frozenset({"accept", "accept-language", "referer", "x-requested-with"})
# Response headers never handed to Chromium: hop-by-hop, already undone (encoding), or state.
DROP_RESPONSE_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive", "set-cookie",
     "set-cookie2", "refresh"}
)
# A page that tries to navigate away (a script setting location, a meta refresh) has that navigation
# aborted by the route and stays; while the attempt is under way, Playwright refuses to evaluate.
NAVIGATING = ("Execution context was destroyed", "page is navigating", "Cannot find context")
# After a scroll that brought nothing within the settle time, how long (from the scroll) the board is
# still given to answer: debounced scroll handlers wait 100-500 ms, a tab short of frames about 1 s.
SCROLL_GRACE = 1.5
MAX_CLICK_ROUNDS = 5  # a selector is clicked again only while new matching elements appear
MAX_REQUESTS_PER_PAGE = 200  # a page's scripts, stylesheets and script requests fetched for one render
BLOCKED_KEPT = 20  # request lines of the black hole kept in the stats

# Runs before any page script: counts the page's own fetch/XHR in flight and when the DOM or the
# network last changed, so a reveal step can wait for the page to be quiet instead of sleeping.
INSTRUMENT_JS = """
(() => {
  if (window.__lw) return;
  // The page's own setTimeout or performance.now may be replaced by its scripts: keep the originals.
  const now = performance.now.bind(performance);
  const timer = setTimeout.bind(window);
  const lw = Object.freeze({
    state: { pending: 0, last: now() }, now, sleep: (ms) => new Promise((r) => timer(r, ms)),
  });
  Object.defineProperty(window, '__lw', { value: lw });
  const st = lw.state;
  const touch = () => { st.last = now(); };
  const done = () => { st.pending = Math.max(0, st.pending - 1); touch(); };
  const origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (...args) {
      st.pending++; touch();
      let p;
      try { p = origFetch.apply(this, args); } catch (e) { done(); throw e; }
      p.then(done, done);
      return p;
    };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    st.pending++; touch();
    this.addEventListener('loadend', done, { once: true });
    try { return send.apply(this, args); } catch (e) { done(); throw e; }
  };
  new MutationObserver(touch).observe(document, { subtree: true, childList: true, attributes: true,
                                                  characterData: true });
})();
"""
# Resolves once none of the page's fetch/XHR is pending and nothing changed for `quiet` seconds, or at
# `timeout`: [quiet reached, seconds since the last change]. One round trip instead of polling.
QUIET_JS = """
async ({quiet, timeout}) => {
  const lw = window.__lw;
  if (!lw) return [true, 1e9];
  const s = lw.state;
  const end = lw.now() + timeout * 1000;
  for (;;) {
    const idle = (lw.now() - s.last) / 1000;
    if (s.pending === 0 && idle >= quiet) return [true, idle];
    if (lw.now() >= end) return [false, idle];
    await lw.sleep(s.pending ? 50 : Math.max(10, (quiet - idle) * 1000));
  }
}
"""
WAIT_FOR_JS = """
async ({sel, timeout}) => {
  const q = () => { try { return document.querySelector(sel) !== null; } catch (e) { return null; } };
  const lw = window.__lw;
  const now = lw ? lw.now : () => performance.now();
  const sleep = lw ? lw.sleep : (ms) => new Promise((r) => setTimeout(r, ms));
  const end = now() + timeout;
  for (;;) {
    const found = q();
    if (found !== false) return found === true;
    if (now() >= end) return false;
    await sleep(50);
  }
}
"""
# Clicks each matching element not clicked before (at most 50); returns how many were clicked.
CLICK_JS = """
(sel) => {
  const clicked = window.__lwClicked || (window.__lwClicked = new WeakSet());
  let els = [];
  try { els = Array.from(document.querySelectorAll(sel)); } catch (e) { return 0; }
  let n = 0;
  for (const el of els) {
    if (n >= 50) break;
    if (clicked.has(el)) continue;
    clicked.add(el);
    try { el.click(); n++; } catch (e) {}
  }
  if (n && window.__lw) window.__lw.state.last = window.__lw.now();  // the settle wait starts here
  return n;
}
"""
# The scroll event (and an IntersectionObserver) fire on the next frame: the settle wait starts now.
SCROLL_JS = """() => {
  const h = document.body ? document.body.scrollHeight : 0;
  window.scrollTo(0, h);
  if (window.__lw) window.__lw.state.last = window.__lw.now();
  return h;
}"""
GREW_JS = "(h) => (document.body ? document.body.scrollHeight : 0) > h"
# True when the tab draws frames: two animation frames within 200 ms.
FRAMES_JS = """() => new Promise((r) => {
  requestAnimationFrame(() => requestAnimationFrame(() => r(true)));
  (window.__lw ? window.__lw.sleep(200) : new Promise((t) => setTimeout(t, 200))).then(() => r(false));
})"""


@dataclass(frozen=True)
class Fetched:
    """What linkwatch's own fetch of a page's subresource answered."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


# (url, request headers, resource type, method) -> the answer, or None when refused or failed
Fetch = Callable[[str, dict[str, str], str, str], Awaitable[Fetched | None]]


@dataclass(frozen=True)
class Steps:
    """A source's reveal steps: wait for a selector, click selectors, scroll to the bottom."""

    wait_for: str | None = None
    click: tuple[str, ...] = ()
    scroll: int = 0
    wait_ms: int = 3000


@dataclass
class Rendered:
    """The DOM after the reveal steps, or why there is none."""

    html: str | None
    error: str | None = None
    attempts: int = 1


@dataclass
class _Job:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    document_served: bool = False
    requests: int = 0
    inflight: int = 0
    last_net: float = 0.0


def route_verdict(resource_type: str, method: str) -> str:
    """What the route does with a page's request other than its document: "asset" (cached fetch),
    "fetch" (fetched for the page), or "abort"."""
    if method.upper() not in READ_METHODS:
        return "abort"  # linkwatch never posts, not even for a page's script
    if resource_type in ASSET_TYPES:
        return "asset"
    if resource_type in SCRIPT_REQUEST_TYPES:
        return "fetch"
    return "abort"  # image, media, font, document in a frame, other (icons, prefetch), ping, websocket…


def fulfil_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Response headers for route.fulfill: joined per name, without hop-by-hop, encoding or cookies."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in DROP_RESPONSE_HEADERS:
            continue
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


class BlackHole:
    """Chromium's proxy: accepts a connection, reads what is asked, closes it unanswered, counts it."""

    def __init__(self, on_request: Callable[[str], None]) -> None:
        self._on_request = on_request
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 2.0)
        except (TimeoutError, OSError, ValueError):
            line = b""
        finally:
            writer.close()
        text = line.decode("latin-1", "replace").strip()[:300]
        if text:  # a bare preconnect asks nothing
            self._on_request(text)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()


class Renderer:
    """One Chromium (started on first use), one context, a pool of reused tabs; see the module doc."""

    def __init__(self, *, chromium: str, fetch: Fetch, stats: Any, tabs: int = 4, max_uses: int = 100,
                 page_timeout: float = 30.0, settle_ms: int = 250, step_timeout: float = 8.0,
                 asset_cache_bytes: int = 64 * 1024 * 1024, user_agent: str | None = None) -> None:
        self.chromium = chromium
        self.fetch = fetch
        self.stats = stats
        self.tabs = max(1, tabs)
        self.max_uses = max(1, max_uses)
        self.page_timeout = page_timeout
        self.settle = settle_ms / 1000
        self.step_timeout = step_timeout
        self.user_agent = user_agent
        self.assets: OnceCache[Fetched | None] = OnceCache(
            lambda f: len(f.body) + 200 if f is not None else 100, max_bytes=asset_cache_bytes
        )
        self.blocked: list[str] = []
        self._hole = BlackHole(self._blocked)
        self._slots = asyncio.Semaphore(self.tabs)
        self._start_lock = asyncio.Lock()
        self._pw: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._idle: list[tuple[Any, int]] = []
        self._jobs: dict[Any, _Job] = {}
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------

    async def _ensure_started(self) -> None:
        async with self._start_lock:
            if self._context is not None and self._browser is not None and self._browser.is_connected():
                return
            if self._closed:
                raise RuntimeError("the renderer is closed")
            from playwright.async_api import async_playwright

            if self._pw is None:
                await self._hole.start()
                self._pw = await async_playwright().start()
            self._idle.clear()
            args = [*CHROMIUM_ARGS, f"--proxy-server=http://127.0.0.1:{self._hole.port}",
                    # Chromium never proxies loopback unless told: without this a forum on 127.0.0.1
                    # (and anything Chromium wants from it) would bypass the black hole.
                    "--proxy-bypass-list=<-loopback>"]
            self._browser = await self._pw.chromium.launch(executable_path=self.chromium, args=args,
                                                           headless=True)
            self.stats.inc_value("linkwatch/browser/launched")
            options: dict[str, Any] = {"service_workers": "block", "accept_downloads": False,
                                       "java_script_enabled": True}
            if self.user_agent:
                options["user_agent"] = self.user_agent
            self._context = await self._browser.new_context(**options)
            await self._context.add_init_script(INSTRUMENT_JS)
            # No context route: each tab gets its own (see _take_page and crawler/tabroute.py).
            self._context.on("page", self._new_page)

    async def close(self) -> None:
        """Closes Chromium and the black hole; puts what the black hole saw in the stats."""
        self._closed = True
        for page, _uses in self._idle:
            await self._close_page(page)
        self._idle.clear()
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._browser.close(), 15)
        if self._pw is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pw.stop(), 15)
        await self._hole.close()
        if self.blocked:
            self.stats.set_value("linkwatch/browser/blocked_requests", list(self.blocked))
        self.stats.set_value("linkwatch/browser/asset_cache_hits", self.assets.hits)
        self.stats.set_value("linkwatch/browser/asset_fetches", self.assets.fetches)

    async def _new_page(self, page: Any) -> None:
        """A page opened by a page (window.open, target=_blank): closed at once. Its own navigation has
        no route (the black hole); a blank popup its opener writes into asks through the opener's
        route, under the opener's rules, until it is closed (crawler/tabroute.py)."""
        try:
            if await page.opener() is not None:
                self.stats.inc_value("linkwatch/browser/popups_closed")
                await page.close()
        except Exception as exc:  # already gone
            logger.debug("closing a popup failed: %s", exc)

    def _blocked(self, request_line: str) -> None:
        self.stats.inc_value("linkwatch/browser/blocked")
        if len(self.blocked) < BLOCKED_KEPT:
            self.blocked.append(request_line)
        logger.debug("Chromium asked for %s: blocked", request_line)

    # -- tabs -----------------------------------------------------------------------------------

    async def _take_page(self, fresh: bool) -> tuple[Any, int]:
        await self._ensure_started()
        while self._idle and not fresh:
            page, uses = self._idle.pop()
            if not page.is_closed():
                self.stats.inc_value("linkwatch/tabs_reused")
                return page, uses
        async with self._start_lock:
            # One at a time, each shown once: of tabs opened together, Chromium (156, headless) was
            # seen to leave one without animation frames (about 1 a second instead of 60), so its
            # scroll events and IntersectionObservers never fired and an infinite board stopped.
            page = await self._context.new_page()
            await page.bring_to_front()
        self.stats.inc_value("playwright/page_count")
        try:  # before the tab loads anything: every request it makes is paused and answered here
            session = await self._context.new_cdp_session(page)
            await TabRoute(session, lambda route, paused: self._answer(page, route, paused)).start()
        except Exception:
            await self._close_page(page)
            raise
        page.set_default_timeout(self.page_timeout * 1000)
        return page, 0

    async def _close_page(self, page: Any) -> None:
        self._jobs.pop(page, None)
        if page.is_closed():
            return
        try:
            await asyncio.wait_for(page.close(), 10)
        except Exception as exc:  # a browser already gone; the context's close cleans up
            logger.debug("closing a tab failed: %s", exc)
        self.stats.inc_value("playwright/page_count/closed")

    # -- rendering ------------------------------------------------------------------------------

    async def render(self, url: str, status: int, headers: list[tuple[str, str]], body: bytes,
                     steps: Steps) -> Rendered:
        """The page's DOM after its scripts ran and the steps revealed what they hide; one retry."""
        error = "not rendered"
        async with self._slots:
            for attempt in (1, 2):
                page = None
                try:
                    page, uses = await self._take_page(fresh=attempt > 1)
                    job = _Job(url, status, fulfil_headers(headers), body,
                               last_net=asyncio.get_running_loop().time())
                    self._jobs[page] = job
                    html = await asyncio.wait_for(self._render_in(page, job, steps), self.page_timeout)
                except Exception as exc:  # Playwright errors, timeouts, a browser that died
                    error = _describe(exc)
                    if page is not None:
                        await self._close_page(page)
                    if attempt == 1:
                        self.stats.inc_value("linkwatch/browser/render_retried")
                        logger.debug("render of %s failed (%s); retrying in a fresh tab", url, error)
                    continue
                self._jobs.pop(page, None)  # from here on, this tab's requests are all aborted
                if uses + 1 >= self.max_uses:
                    await self._close_page(page)
                else:
                    self._idle.append((page, uses + 1))
                self.stats.inc_value("linkwatch/browser/rendered")
                return Rendered(html, attempts=attempt)
        return Rendered(None, error=error, attempts=2)

    async def _render_in(self, page: Any, job: _Job, steps: Steps) -> str:
        await page.goto(job.url, wait_until="load", timeout=self.page_timeout * 1000)
        await self._awake(page)
        await self._settle(page, job)
        if steps.wait_for:
            found = await _evaluate(page, WAIT_FOR_JS, {"sel": steps.wait_for, "timeout": steps.wait_ms})
            if not found:
                self.stats.inc_value("linkwatch/browser/wait_for_missed")
            await self._settle(page, job)
        for selector in steps.click:
            for _round in range(MAX_CLICK_ROUNDS):
                if not await _evaluate(page, CLICK_JS, selector):
                    break
                self.stats.inc_value("linkwatch/browser/clicks")
                await self._settle(page, job)
        for _n in range(steps.scroll):
            await self._awake(page)
            height = await _evaluate(page, SCROLL_JS)
            await self._settle(page, job)
            if await _evaluate(page, GREW_JS, height):
                continue
            # Nothing yet. A board may answer a scroll late (a debounced handler, a tab drawing its next
            # frame late): it is given until SCROLL_GRACE after the scroll, quiet all along, to start.
            await self._awake(page)
            await self._settle(page, job, quiet=max(self.settle, SCROLL_GRACE))
            if not await _evaluate(page, GREW_JS, height):
                break  # nothing more arrived: the board has ended (or never scrolls)
        return await _evaluate(page, None)

    async def _awake(self, page: Any) -> None:
        """Chromium (156, headless) was seen to stop drawing frames for one of several tabs (about one
        a second): its scroll events, IntersectionObservers and animation frames then never fire
        and an infinite board stops after its first batch. Such a tab is brought to the front."""
        if not await _evaluate(page, FRAMES_JS):
            self.stats.inc_value("linkwatch/browser/tabs_woken")
            await page.bring_to_front()

    async def _settle(self, page: Any, job: _Job, quiet: float | None = None) -> bool:
        """Waits until nothing is in flight (the page's own fetch/XHR, linkwatch's fetches for it) and
        neither the DOM nor the network changed for the settle time (or `quiet` seconds); False
        (counted) when the step timeout came first."""
        settle = self.settle if quiet is None else quiet
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.step_timeout
        while True:
            left = deadline - loop.time()
            calm, _idle = await _evaluate(page, QUIET_JS, {"quiet": settle, "timeout": max(left, 0)})
            since_net = loop.time() - job.last_net
            if calm and job.inflight == 0 and since_net >= settle:
                return True
            if loop.time() >= deadline:
                self.stats.inc_value("linkwatch/browser/settle_timeouts")
                return False
            # linkwatch is still fetching something for the page (a script it inserted, say)
            await asyncio.sleep(0.05 if job.inflight else max(0.01, settle - since_net))

    # -- the route ------------------------------------------------------------------------------

    async def _answer(self, page: Any, route: TabRoute, request: Paused) -> None:
        job = self._jobs.get(page)
        if job is None:
            self.stats.inc_value("linkwatch/idle_tab_aborted")
            await route.abort(request, "Aborted")
            return
        rtype = request.resource_type
        if rtype == "document":
            if not job.document_served and request.main_frame and _same_document(request.url, job.url):
                job.document_served = True
                await route.fulfill(request, job.status, job.headers, job.body)
                return
            self.stats.inc_value("linkwatch/browser/aborted/navigation")
            # ERR_ABORTED, as a cancelled navigation: the page stays (any other error code would
            # replace it with Chromium's error page, and the render would read that).
            await route.abort(request, "Aborted")
            return
        verdict = route_verdict(rtype, request.method) if job.document_served else "abort"
        if verdict != "abort" and job.requests >= MAX_REQUESTS_PER_PAGE:
            verdict = "abort"  # a page asking for hundreds of things: enough (bounded, counted)
            self.stats.inc_value("linkwatch/browser/requests_capped")
        if verdict == "abort":
            self.stats.inc_value(f"linkwatch/browser/aborted/{rtype}")
            await route.abort(request)
            return
        job.requests += 1
        fetched = await self._subresource(job, request, verdict)
        if fetched is None:
            await route.abort(request)
            return
        await route.fulfill(request, fetched.status, fulfil_headers(fetched.headers), fetched.body)

    async def _subresource(self, job: _Job, request: Paused, verdict: str) -> Fetched | None:
        url = request.url.split("#", 1)[0]
        if not url.startswith(("http://", "https://")):
            return None
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARD_HEADERS}
        method = request.method.upper()
        job.inflight += 1
        try:
            if verdict == "asset":
                kind = request.resource_type
                return await self.assets.get(url, lambda: self.fetch(url, headers, kind, "GET"))
            self.stats.inc_value("linkwatch/browser/script_requests")
            return await self.fetch(url, headers, request.resource_type, method)
        finally:
            job.inflight -= 1
            job.last_net = asyncio.get_running_loop().time()


async def _evaluate(page: Any, script: str | None, arg: Any = None) -> Any:
    """page.evaluate(script, arg), or page.content() without a script; tried again (up to 10 times,
    50 ms apart) while the page is busy with a navigation the route is aborting."""
    for attempt in range(10):
        try:
            if script is None:
                return await page.content()
            return await page.evaluate(script, arg)
        except Exception as exc:
            if attempt == 9 or not any(marker in str(exc) for marker in NAVIGATING):
                raise
            await asyncio.sleep(0.05)
    raise AssertionError("unreachable")


def _same_document(a: str, b: str) -> bool:
    return a.split("#", 1)[0] == b.split("#", 1)[0]


def _describe(exc: BaseException) -> str:
    """One line for a failed render (Playwright's messages carry a call log after the first line)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:200]


def steps_for(source: Any) -> Steps:
    """A source's reveal steps."""
    return Steps(wait_for=source.wait_for, click=tuple(source.click), scroll=source.scroll)
