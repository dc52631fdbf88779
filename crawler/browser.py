"""scrapy-playwright settings: the system Chromium, images off, media aborted, service workers blocked."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from linkwatch.config import Config

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
    # Blink never even requests images; the abort predicate below is the second wall.
    "--blink-settings=imagesEnabled=false",
]

ABORTED_RESOURCE_TYPES = frozenset({"image", "media", "font"})
# Requests a page's own script makes: their URL says nothing of what they answer, so their headers
# are checked before Chromium may read the body (TabReusingHandler._answers_media).
SCRIPT_REQUEST_TYPES = frozenset({"fetch", "xhr", "eventsource", "other"})
# Request headers the header check repeats (the browser's cookies are never sent: it has none).
CHECK_HEADERS = ("accept", "accept-language", "referer")


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in CHECK_HEADERS}

# Page steps run in the page after load: wait for a selector, click to reveal, scroll to the bottom.
# One evaluate() that never throws, so a board without the selector is still captured.
STEPS_JS = """
async ({waitFor, click, scroll, timeout}) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (fn, ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) { try { if (fn()) return true; } catch (e) { return false; } await sleep(50); }
    return false;
  };
  const q = (sel) => { try { return document.querySelector(sel); } catch (e) { return null; } };
  if (waitFor) await until(() => q(waitFor), timeout);
  for (const sel of click) {
    let els = [];
    try { els = Array.from(document.querySelectorAll(sel)).slice(0, 50); } catch (e) {}
    for (const el of els) { try { el.click(); } catch (e) {} }
  }
  if (click.length) await sleep(300);
  for (let i = 0; i < scroll; i++) {
    const h = document.body ? document.body.scrollHeight : 0;
    window.scrollTo(0, h);
    // Nothing more arrived: the board has ended (or never scrolls); stop early.
    if (!(await until(() => document.body && document.body.scrollHeight > h, 1500))) break;
  }
  if (click.length || scroll) await sleep(100);
  return true;
}
"""


def abort_request(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: abort images, media and fonts (by type, and by URL extension for
    requests Chromium labels "other", such as a favicon) before they leave the browser.

    Also aborted: documents loaded into a frame (iframe, frame). Chromium would read whatever such
    a URL answers, image/jpeg included, with no header check; the capture is the top page's HTML
    only, and the spider follows frame and iframe sources itself, through the header check.
    """
    from linkwatch.scope import is_media_url

    if request.resource_type in ABORTED_RESOURCE_TYPES or is_media_url(request.url):
        return True
    return request.resource_type == "document" and _in_subframe(request)


def _in_subframe(request: Any) -> bool:
    try:
        return request.frame.parent_frame is not None
    except Exception:  # no frame to ask (a service worker's request): not a frame document
        return False


class TabReusingHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, but a tab is navigated again instead of closed and reopened.

    Opening a tab costs Chromium a new renderer process (spawn, V8 and Blink start-up) and the
    browser process its bookkeeping; on a 2-core machine that was most of a rendered page's CPU.
    An idle tab goes back to a pool and the next page is loaded in it; the page-count cap
    (PLAYWRIGHT_MAX_PAGES_PER_CONTEXT) still bounds the tabs, and a tab is closed after
    `LINKWATCH_TAB_MAX_USES` pages (or on any error) so a long crawl's memory stays flat.
    The abort predicate is installed again by scrapy-playwright for every request, so a reused
    tab refuses media exactly like a new one.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._idle: list[tuple[Any, int]] = []
        self._max_uses = max(1, crawler.settings.getint("LINKWATCH_TAB_MAX_USES", 100))
        self._guarded: set[Any] = set()
        self._launch_lock = asyncio.Lock()
        self._launched = False
        self._inner_abort = self.abort_request
        self.abort_request = self._idle_abort
        # Idle tabs hold their slot of scrapy-playwright's per-context page semaphore, so a request
        # waiting there would never wake: requests wait here instead, one per tab.
        self._tabs = asyncio.Semaphore(max(1, self.config.max_pages_per_context or 8))
        self._checker: Any = None  # httpx.AsyncClient for page scripts' requests, made on first use
        self._user_agent = crawler.settings.get("USER_AGENT") or "linkwatch"

    async def _launch(self) -> None:
        """Scrapy makes one handler per scheme (http, https) and scrapy-playwright launches a
        Playwright driver and a Chromium for each when the engine starts, used or not: the browser
        is launched on the first page this handler renders instead."""

    async def _ensure_launched(self) -> None:
        async with self._launch_lock:
            if not self._launched:
                await super()._launch()
                self._launched = True

    async def _download_request(self, request: Any, spider: Any = None) -> Any:
        await self._ensure_launched()
        if request.meta.get("playwright_include_page") or request.meta.get("playwright_page"):
            return await super()._download_request(request, spider)
        async with self._tabs:
            return await self._download_in_tab(request, spider)

    async def _download_in_tab(self, request: Any, spider: Any) -> Any:
        uses = 0
        while self._idle:
            page, uses = self._idle.pop()
            if not page.is_closed():
                request.meta["playwright_page"] = page
                request.meta["playwright_page_init_callback"] = self._unguard
                self.stats.inc_value("linkwatch/tabs_reused")
                break
            uses = 0
        request.meta["playwright_include_page"] = True
        try:
            response = await super()._download_request(request, spider)
        except BaseException:
            await self._close_page(request.meta.pop("playwright_page", None))
            raise
        finally:
            request.meta.pop("playwright_include_page", None)
            request.meta.pop("playwright_page_init_callback", None)
        page = request.meta.pop("playwright_page", None)
        if page is not None and not page.is_closed():
            if uses + 1 >= self._max_uses or not self._park(page):
                await self._close_page(page)
            else:
                self._idle.append((page, uses + 1))
        return response

    def _park(self, page: Any) -> bool:
        """Puts a tab in the pool. Its last page stays loaded (navigating away to about:blank cost
        a quarter of the throughput), but from now until the next page is requested in it, every
        request the tab makes is aborted: a page's timer or meta refresh can never make Chromium
        fetch a URL nobody checked at headers."""
        self._guarded.add(page)
        return True

    async def _idle_abort(self, request: Any) -> bool:
        try:
            page = request.frame.page
        except Exception:  # no frame (a service worker's request): those are blocked anyway
            page = None
        if page is not None and page in self._guarded:
            self.stats.inc_value("linkwatch/idle_tab_aborted")
            return True
        if self._inner_abort is not None:
            verdict = self._inner_abort(request)
            if await verdict if inspect.isawaitable(verdict) else verdict:
                return True
        if request.resource_type in SCRIPT_REQUEST_TYPES and request.method == "GET":
            return await self._answers_media(request.url, request.headers)
        return False

    async def _answers_media(self, url: str, headers: dict[str, str]) -> bool:
        """A page script's fetch/XHR: Chromium would read its body whatever its type, so its headers
        are checked first (redirects followed, body never read); media, or no answer, aborts it."""
        import httpx

        from linkwatch.scope import is_media_type

        if self._checker is None:
            self._checker = httpx.AsyncClient(follow_redirects=True, max_redirects=5, timeout=15.0,
                                              headers={"User-Agent": self._user_agent})
        try:
            async with self._checker.stream("GET", url, headers=_check_headers(headers)) as response:
                media = is_media_type(response.headers.get("content-type"))
        except (httpx.HTTPError, ValueError) as exc:
            logger.debug("header check of %s failed: %s", url, exc)
            media = False  # the browser's own request then fails or succeeds as it would have
        if media:
            self.stats.inc_value("media/refused")
            self.stats.inc_value("linkwatch/script_media_aborted")
        return media

    async def _unguard(self, page: Any, request: Any) -> None:
        """playwright_page_init_callback: scrapy-playwright calls it once the new request's route is
        in place, just before it navigates the tab to the new page."""
        self._guarded.discard(page)

    async def _close_page(self, page: Any) -> None:
        self._guarded.discard(page)
        if page is None or page.is_closed():
            return
        try:
            await page.close()
        except Exception as exc:  # the browser may already be gone; the context close cleans up
            logger.debug("closing a tab failed: %s", exc)
        self.stats.inc_value("playwright/page_count/closed")

    async def _close(self) -> None:
        idle, self._idle = self._idle, []
        for page, _uses in idle:
            await self._close_page(page)
        if self._checker is not None:
            await self._checker.aclose()
        await super()._close()


def playwright_settings(config: Config, *, concurrency: int = 4) -> dict[str, Any]:
    """Scrapy settings that route requests through Chromium (for sources with render = "browser")."""
    chromium = config.chromium_path()
    if not chromium:
        raise RuntimeError(
            "Chromium not found: install it (`apt-get install chromium`) or set LINKWATCH_CHROMIUM"
        )
    handler = "crawler.browser.TabReusingHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": chromium, "args": CHROMIUM_ARGS, "headless": True},
        "PLAYWRIGHT_ABORT_REQUEST": abort_request,
        "PLAYWRIGHT_CONTEXTS": {
            "default": {"service_workers": "block", "java_script_enabled": True, "accept_downloads": False}
        },
        # One context, a few tabs: memory stays flat; pages are closed after every response.
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, min(concurrency, 8)),
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 30_000,
    }


def page_steps(wait_for: str | None, click: list[str], scroll: int, timeout_ms: int = 3000) -> list[Any]:
    """The playwright_page_methods for a source's wait/click/scroll steps (empty when none)."""
    if not (wait_for or click or scroll):
        return []
    from scrapy_playwright.page import PageMethod

    args = {"waitFor": wait_for, "click": list(click), "scroll": scroll, "timeout": timeout_ms}
    return [PageMethod("evaluate", STEPS_JS, args)]
