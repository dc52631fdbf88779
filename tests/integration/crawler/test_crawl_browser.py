"""Browser-mode crawls of the test forum, judged from the forum's own request log.

Chromium renders what linkwatch fetched: one request per HTML document, each script and stylesheet
once per crawl, a page script's requests through linkwatch (robots.txt, media checks), and nothing
else, ever: no icon, manifest, prefetch, service worker or media request reaches the forum.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import codes as _codes
from tests.utils.crawl import run_linkwatch, runs, sources_toml

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STEPS = """
click = [".spoiler-btn"]
scroll = 3
deny = ["/calendar", "/huge", "/slow"]
"""


def _forum_host_blocked(stats: dict, url: str) -> list[str]:
    """Requests Chromium made on its own (caught by the black-hole proxy) for the forum itself."""
    host = url.split("//", 1)[1]
    return [line for line in stats.get("linkwatch/browser/blocked_requests", []) if host in line]


def test_browser_crawl_sees_what_javascript_shows_and_fetches_each_document_once(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(forum.url, render="browser", extra=STEPS), encoding="utf-8")
    env = {**lw_env, "LINKWATCH_CHROMIUM": chromium_path}
    result = run_linkwatch(["crawl", "tf", "--sources", str(sources)], env)
    assert result.returncode == 0, result.stderr

    found = _codes(db)
    with psycopg.connect(db) as conn:
        rendered = conn.execute("SELECT bool_and(rendered), count(*) FROM pages").fetchone()
    denied = {"LwSlowPage1"}  # /slow is denied in this source to keep the test short
    # (no wait_for: after its load, and after each click and scroll, a page is left until it is quiet)
    missing = (forum_site.static_codes() - denied) | forum_site.browser_codes()
    missing -= found
    assert not missing, f"links a reader sees but the browser crawl missed: {sorted(missing)}"
    assert forum_site.PRIVATE_CODE not in found
    assert forum.paths("/private") == []
    assert rendered[0] is True
    assert rendered[1] > 20

    # One request per document: Scrapy fetched it, Chromium was handed the body. Only /flaky is
    # asked twice (a 500, then Scrapy's retry).
    counts = Counter(forum.paths())
    assert {p: n for p, n in counts.items() if n > 1} == {"/flaky": 2}
    # Nothing Chromium would fetch on its own reached the forum: no icon (with or without an
    # extension), manifest or its icons, prefetch, preload, image, video, sound or font.
    assert forum.browser_only_requests() == []
    assert forum.media_bodies() == []
    assert {r.path: r.body_sent for r in forum.requests() if r.path.startswith("/files/")} == {
        f"/files/{n}": False for n in forum_site.ATTACHMENTS
    }
    assert forum.account_requests() == []
    assert forum.with_cookies() == []

    (run,) = runs(db)
    assert run["status"] == "finished"
    assert run["media_refused"] == 1 + len(forum_site.ATTACHMENTS)
    assert run["errors"] == 0
    stats = run["stats"]
    assert _forum_host_blocked(stats, forum.url) == []
    # Tabs are reused: fewer opened than pages rendered, every tab opened was closed by the end.
    assert stats["linkwatch/browser/rendered"] == rendered[1]
    assert stats["playwright/page_count"] < rendered[1]
    assert stats["playwright/page_count"] + stats["linkwatch/tabs_reused"] == rendered[1]
    assert stats["playwright/page_count/closed"] == stats["playwright/page_count"]


def test_a_javascript_engine_finds_every_link_and_its_scripts_obey_robots(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    """Ten boards redraw themselves from a JSON API and load more threads by XHR after a random
    50-900 ms: every link on every board (ten trials of the random delay in one crawl)."""
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f"""
[[source]]
name = "app"
start_urls = ["{forum.url}/app/"]
allow = ["/app/"]
render = "browser"
wait_for = "#root .threads li"
click = ["button.more"]
delay = 0.0
concurrency = 4
max_depth = 3
""",
        encoding="utf-8",
    )
    result = run_linkwatch(["crawl", "app", "--sources", str(sources)],
                           {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
    assert result.returncode == 0, result.stderr

    found = _codes(db)
    wanted = forum_site.app_static_codes() | forum_site.app_browser_codes()
    assert not wanted - found, f"missed: {sorted(wanted - found)}"
    boards = range(1, forum_site.APP_BOARDS + 1)
    # robots.txt disallows /app/internal/: the page script's call to it never left linkwatch
    assert forum.paths("/app/internal") == []
    assert not {forum_site.app_tracked_code(b) for b in boards} & found

    counts = Counter(forum.paths())
    # each script and stylesheet once for the whole crawl, each document once, each API call once
    for asset in ("/app/static/vendor.js", "/app/static/app.js", "/app/static/app.css"):
        assert counts[asset] == 1, (asset, counts[asset])
    for board in boards:
        assert counts[f"/app/board/{board}"] == 1
        assert counts[f"/app/api/board/{board}"] == 1
        assert counts[f"/app/api/board/{board}/more"] == 1
    assert {p: n for p, n in counts.items() if n > 1} == {}
    # requests per board page: its document and its two uncached API calls, nothing more
    per_board = [p for p in counts if re.match(r"^/app/(board|api/board)/\d+", p)]
    assert len(per_board) == 3 * forum_site.APP_BOARDS

    # The test that fails if Chromium ever asks for an icon: not at the forum (log), not even
    # at the black hole it is given as a proxy (no request for the forum's host there).
    assert forum.browser_only_requests() == []
    assert forum.paths("/avatar/") == []
    (run,) = runs(db)
    stats = run["stats"]
    assert _forum_host_blocked(stats, forum.url) == []
    assert stats["linkwatch/browser/robots_refused"] == forum_site.APP_BOARDS
    assert stats["linkwatch/browser/clicks"] == forum_site.APP_BOARDS
    assert stats["linkwatch/browser/asset_fetches"] == 3
    assert run["errors"] == 0


def test_a_source_may_let_page_scripts_past_robots_txt(forum, lw_env, tmp_path, chromium_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f"""
[[source]]
name = "app"
start_urls = ["{forum.url}/app/board/3"]
render = "browser"
browser_obey_robots = false
delay = 0.0
max_depth = 0
""",
        encoding="utf-8",
    )
    result = run_linkwatch(["crawl", "app", "--sources", str(sources)],
                           {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
    assert result.returncode == 0, result.stderr
    # the pages themselves still obey robots.txt; only the page's own script requests go past it
    assert forum.paths("/app/internal") == ["/app/internal/track?b=3"]
    assert forum_site.app_tracked_code(3) in _codes(lw_env["LINKWATCH_DATABASE_URL"])


def test_an_infinite_board_that_answers_a_scroll_late_is_read_to_its_end(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    # The board loads more once scrolling has stopped for 400 ms (a debounced handler), longer than the
    # settle time (250 ms); a tab drawing its frames late answers a scroll late the same way. Judging
    # the board ended at the first quiet moment missed every batch after the first.
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f"""
[[source]]
name = "feed"
start_urls = ["{forum.url}/scroll?debounce=400"]
render = "browser"
delay = 0.0
max_depth = 0
scroll = {forum_site.SCROLL_BATCHES + 1}
""",
        encoding="utf-8",
    )
    result = run_linkwatch(["crawl", "feed", "--sources", str(sources)],
                           {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
    assert result.returncode == 0, result.stderr
    batches = range(forum_site.SCROLL_BATCHES + 1)
    assert forum.paths("/api/scroll") == [f"/api/scroll?batch={b}" for b in batches]
    want = {f"LwScroll{b}n{i}Abc" for b in batches for i in range(2)}
    assert want <= _codes(lw_env["LINKWATCH_DATABASE_URL"])


def test_chromium_asks_for_icons_on_its_own(forum, chromium_path) -> None:
    """Why the wall is needed (and why the tests above can fail): given a route that lets requests
    through, Chromium fetches a page's icon and prefetch hints itself, images disabled or not."""
    from playwright.async_api import async_playwright

    from crawler.browser import CHROMIUM_ARGS

    async def visit() -> None:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            context = await browser.new_context(service_workers="block")

            async def through(route, request):  # an abort-only-media route, as before this change
                if request.resource_type in ("image", "media", "font"):
                    await route.abort()
                else:
                    await route.continue_()

            await context.route("**/*", through)
            page = await context.new_page()
            await page.goto(forum.url + "/board/kr-nodecl")
            await page.goto(forum.url + "/jsboard")
            await page.wait_for_timeout(1000)  # the icon request comes after the load event
            await browser.close()

    asyncio.run(visit())
    asked = {r.path for r in forum.requests()} & forum_site.BROWSER_ONLY_PATHS
    assert asked & {"/icon", "/prefetched"}, sorted(asked)
    # and the forum can tell: what Chromium asks itself carries Sec-Fetch-Mode (forum.from_chromium)
    assert forum.from_chromium() == forum.requests()


HOSTILE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Hostile</title></head><body><script>"
    "window.open('/popup-target');"
    "for (let i = 0; i < 400; i++) fetch('/api/flood?i=' + i).catch(() => {});"
    # the page breaks the timers a render might wait with
    "window.setTimeout = () => 0; performance.now = () => 0; window.requestAnimationFrame = () => 0;"
    "document.body.append('join t.me/+' + 'LwHostile1x');"
    "</script></body></html>"
)


class HostileHandler(forum_site.Handler):
    def _route(self, head: bool) -> None:
        if self.path == "/hostile":
            self._log()
            return self._send(200, HOSTILE, head=head)
        if self.path.startswith(("/api/flood", "/popup-target")):
            self._log()
            return self._send(200, "{}", "application/json", head=head)
        return super()._route(head)


def test_a_hostile_page_is_rendered_within_bounds(lw_env, tmp_path, chromium_path) -> None:
    site = forum_site.TestForum()
    site.server.RequestHandlerClass = HostileHandler
    sources = tmp_path / "sources.toml"
    with site:
        sources.write_text(
            f"""
[[source]]
name = "hostile"
start_urls = ["{site.url}/hostile"]
render = "browser"
scroll = 2
delay = 0.0
max_depth = 0
""",
            encoding="utf-8",
        )
        result = run_linkwatch(["crawl", "hostile", "--sources", str(sources)],
                               {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
        paths = site.paths()
    assert result.returncode == 0, result.stderr
    assert "LwHostile1x" in _codes(lw_env["LINKWATCH_DATABASE_URL"])
    # a popup is closed before it loads anything; a flood of requests is cut at a bound
    assert "/popup-target" not in paths
    assert len([p for p in paths if p.startswith("/api/flood")]) == 200
    (run,) = runs(lw_env["LINKWATCH_DATABASE_URL"])
    assert run["errors"] == 0
    assert run["stats"]["linkwatch/browser/requests_capped"] == 200


HANG = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Hang</title></head><body>"
    "<p>static: t.me/+Lw{name}Static1x</p><div id='out'></div><script>"
    "{guard}"
    "document.getElementById('out').textContent = 'join t.me/+Lw' + '{name}Script1x';"
    "</script></body></html>"
)
# localStorage is the context's: the first render (tab) sets it and hangs, the retry (a new tab)
# sees it and renders. "always" hangs every time.
GUARDS = {
    "Once": "if (!localStorage.getItem('tried')) { localStorage.setItem('tried', '1'); while (true) {} }",
    "Always": "while (true) {}",
}


class HangHandler(forum_site.Handler):
    def _route(self, head: bool) -> None:
        if self.path in ("/hang/once", "/hang/always"):
            self._log()
            name = "Once" if self.path.endswith("once") else "Always"
            return self._send(200, HANG.format(name=name, guard=GUARDS[name]), head=head)
        if self.path == "/hang/":
            self._log()
            return self._send(200, "<a href='/hang/once'>1</a> <a href='/hang/always'>2</a>", head=head)
        return super()._route(head)


def test_a_failed_render_is_retried_once_then_read_as_fetched_and_counted_alike(
    lw_env, tmp_path, chromium_path
) -> None:
    site = forum_site.TestForum()
    site.server.RequestHandlerClass = HangHandler
    sources = tmp_path / "sources.toml"
    with site:
        sources.write_text(
            f"""
[[source]]
name = "hang"
start_urls = ["{site.url}/hang/"]
render = "browser"
render_timeout = 2.0
delay = 0.0
concurrency = 2
max_depth = 1
obey_robots = false
""",
            encoding="utf-8",
        )
        result = run_linkwatch(["crawl", "hang", "--sources", str(sources)],
                               {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
        counts = Counter(site.paths())
    assert result.returncode == 0, result.stderr
    found = _codes(lw_env["LINKWATCH_DATABASE_URL"])
    # retried in a fresh tab: rendered; failed twice: its page as fetched is still read and stored
    assert {"LwOnceStatic1x", "LwOnceScript1x", "LwAlwaysStatic1x"} <= found
    assert "LwAlwaysScript1x" not in found
    # a retry renders the same body again: no second request
    assert counts["/hang/once"] == counts["/hang/always"] == 1

    # one line, naming the URL; no traceback
    lines = [line for line in result.stderr.splitlines() if "/hang/always" in line]
    assert len(lines) == 1, result.stderr
    assert "Could not render" in lines[0]
    assert "Traceback" not in result.stderr
    # the same error count in the progress line, the summary and crawl_runs
    (run,) = runs(lw_env["LINKWATCH_DATABASE_URL"])
    assert run["errors"] == 1
    assert run["stats"]["linkwatch/browser/render_retried"] == 2  # each retried once, no more
    progress = [line for line in result.stderr.splitlines() if line.startswith("[hang]")][-1]
    assert " 1 error " in progress
    assert " 1 error " in result.stdout
