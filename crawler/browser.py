"""scrapy-playwright settings: the system Chromium, images off, media aborted, service workers blocked."""

from __future__ import annotations

from typing import Any

from crawler.config import Config

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
    requests Chromium labels "other", such as a favicon) before they leave the browser."""
    from crawler.spiders.urls import is_media_url

    return request.resource_type in ABORTED_RESOURCE_TYPES or is_media_url(request.url)


def playwright_settings(config: Config, *, concurrency: int = 4) -> dict[str, Any]:
    """Scrapy settings that route requests through Chromium (for sources with render = "browser")."""
    chromium = config.chromium_path()
    if not chromium:
        raise RuntimeError(
            "Chromium not found: install it (`apt-get install chromium`) or set LINKWATCH_CHROMIUM"
        )
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
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
