"""Browser mode reuses tabs: each page is still its own; a tab waiting for its next page fetches
nothing; a page that navigates itself stays; meta refresh and iframe targets are followed as links,
and a page script's own fetch/XHR is made by linkwatch (media refused), never by Chromium."""

from __future__ import annotations

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import run_linkwatch, runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = 6


def _late_page(n: int) -> str:
    # Written by script, so only a render of this very page shows it (not the tab's previous page).
    code = f"LwTabPage{n}x"
    nxt = f'<a href="/late/{n + 1}">next</a>' if n < PAGES else ""
    # A timer and a meta refresh that fire after the page was captured, while its tab waits in the
    # pool: they must never reach the server (the targets answer like /attach/download: image/jpeg).
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Late</title>"
        f"<meta http-equiv='refresh' content='1;url=/late-refresh?from={n}'></head><body>"
        f"<div id='out'></div>{nxt}<iframe src='/late-frame?from={n}'></iframe>"
        f"<script>document.getElementById('out').textContent = 'join t.me/+' + '{code}';"
        f"setTimeout(() => {{ location.href = '/late-timer?from={n}'; }}, 300);"
        f"setTimeout(() => {{ fetch('/late-fetch?from={n}'); }}, 300);</script>"
        "</body></html>"
    )


class LateHandler(forum_site.Handler):
    def _route(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/late/"):
            self._log()
            n = int(path.rsplit("/", 1)[1])
            if not 1 <= n <= PAGES:
                return self._send(404, "not found", "text/plain", head=head)
            return self._send(200, _late_page(n), head=head)
        if path == "/late-api":
            self._log()
            return self._send(200, '{"invite": "t.me/+LwScriptApi1x"}', "application/json", head=head)
        if path.startswith("/late-"):
            entry = self._log()
            return self._send_media(entry, "image/jpeg", head)
        return super()._route(head)


@pytest.fixture
def forum():
    site = forum_site.TestForum()
    site.server.RequestHandlerClass = LateHandler
    with site:
        yield site


def test_reused_tabs_render_their_own_page_and_stay_quiet_while_idle(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    # One tab and a politeness delay: the tab waits in the pool longer than the pages' timers.
    sources.write_text(
        f"""
[[source]]
name = "tabs"
start_urls = ["{forum.url}/late/1"]
allow = ["/late"]
render = "browser"
delay = 1.0
concurrency = 1
max_depth = 10
max_pages = 20
obey_robots = false
""",
        encoding="utf-8",
    )
    env = {**lw_env, "LINKWATCH_CHROMIUM": chromium_path}
    result = run_linkwatch(["crawl", "tabs", "--sources", str(sources)], env)
    assert result.returncode == 0, result.stderr

    with psycopg.connect(db) as conn:
        found = {r[0] for r in conn.execute("SELECT code FROM links")}
        pages = {r[0] for r in conn.execute("SELECT url FROM pages WHERE rendered")}
    assert found == {f"LwTabPage{n}x" for n in range(1, PAGES + 1)}
    assert pages == {f"{forum.url}/late/{n}" for n in range(1, PAGES + 1)}

    # A script's navigation never leaves Chromium (aborted, the page stays); a script's fetch is
    # made by linkwatch while the page renders (checked at headers: image/jpeg, refused), and
    # never while its tab waits in the pool.
    assert [p for p in forum.paths() if p.startswith("/late-timer")] == []
    assert all(r.body_sent is False for r in forum.requests() if r.path.startswith("/late-fetch"))
    # A meta refresh target is followed like a link: checked at headers first (image/jpeg, so
    # refused), never sent to Chromium.
    refresh = [r for r in forum.requests() if r.path.startswith("/late-refresh")]
    assert sorted(r.path for r in refresh) == [f"/late-refresh?from={n}" for n in range(1, PAGES + 1)]
    assert all(r.body_sent is False for r in refresh)
    # So is an iframe's source: Chromium never loads a frame document (it could be anything).
    frames = [r for r in forum.requests() if r.path.startswith("/late-frame")]
    assert sorted(r.path for r in frames) == [f"/late-frame?from={n}" for n in range(1, PAGES + 1)]
    assert all(r.body_sent is False for r in frames)
    assert forum.media_bodies() == []

    (run,) = runs(db)
    stats = run["stats"]
    assert run["status"] == "finished"
    assert stats["playwright/page_count"] == 1
    assert stats["linkwatch/tabs_reused"] == PAGES - 1
    assert stats["playwright/page_count/closed"] == 1
    assert stats.get("linkwatch/idle_tab_aborted", 0) >= 1
    assert run["media_refused"] >= 2 * PAGES


SCRIPT_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Script</title></head><body>"
    "<div id='out'></div><script>"
    # Extensionless URLs that answer image/jpeg, asked for by the page's own script while it renders.
    "fetch('/late-now-fetch').catch(() => {});"
    "const x = new XMLHttpRequest(); x.open('GET', '/late-now-xhr'); x.send();"
    # A JSON API the page needs: it must still load (a code only it reveals). It comes late, so the
    # page is still open when the server decides whether the media bodies above are wanted (1 s).
    "setTimeout(() => fetch('/late-api').then((r) => r.json()).then((d) => {"
    "  document.getElementById('out').textContent = 'join ' + d.invite; }), 1500);"
    "</script></body></html>"
)


class ScriptHandler(LateHandler):
    def _route(self, head: bool) -> None:
        if self.path == "/script":
            self._log()
            return self._send(200, SCRIPT_PAGE, head=head)
        return super()._route(head)


def test_a_page_scripts_fetch_of_media_is_refused_at_headers(lw_env, tmp_path, chromium_path) -> None:
    site = forum_site.TestForum()
    site.server.RequestHandlerClass = ScriptHandler
    sources = tmp_path / "sources.toml"
    with site:
        sources.write_text(
            f"""
[[source]]
name = "script"
start_urls = ["{site.url}/script"]
allow = ["/nothing"]
render = "browser"
wait_for = "#out:not(:empty)"
delay = 0.0
concurrency = 1
max_pages = 3
obey_robots = false
""",
            encoding="utf-8",
        )
        result = run_linkwatch(["crawl", "script", "--sources", str(sources)],
                               {**lw_env, "LINKWATCH_CHROMIUM": chromium_path})
        assert result.returncode == 0, result.stderr
        requests = site.requests()
        media = site.media_bodies()
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        found = {r[0] for r in conn.execute("SELECT code FROM links")}
    assert found == {"LwScriptApi1x"}  # the JSON the page fetched reached it
    checked = [r for r in requests if r.path in ("/late-now-fetch", "/late-now-xhr")]
    # Each asked for once, by linkwatch, which hung up before the body; Chromium never asked.
    assert sorted(r.path for r in checked) == ["/late-now-fetch", "/late-now-xhr"]
    assert all(r.body_sent is False for r in checked)
    assert media == []
    (run,) = runs(lw_env["LINKWATCH_DATABASE_URL"])
    assert run["stats"]["linkwatch/browser/media_refused"] == 2
