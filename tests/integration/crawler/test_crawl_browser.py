"""Browser-mode crawl of the test forum: JavaScript links found, no media body ever served."""

from __future__ import annotations

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import run_linkwatch, runs, sources_toml

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STEPS = """
wait_for = ".comments-loaded, #list li, #feed p"
click = [".spoiler-btn"]
scroll = 3
deny = ["/calendar", "/huge", "/slow"]
"""


def test_browser_crawl_sees_what_javascript_shows_and_fetches_no_media(
    forum, lw_env, tmp_path, chromium_path
) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(forum.url, render="browser", extra=STEPS), encoding="utf-8")
    env = {**lw_env, "LINKWATCH_CHROMIUM": chromium_path}
    result = run_linkwatch(["crawl", "tf", "--sources", str(sources)], env)
    assert result.returncode == 0, result.stderr

    with psycopg.connect(db) as conn:
        found = {r[0] for r in conn.execute("SELECT code FROM links")}
        rendered = conn.execute("SELECT bool_and(rendered), count(*) FROM pages").fetchone()
    denied = {"LwSlowPage1"}  # /slow is denied in this source to keep the test short
    missing = (forum_site.static_codes() - denied) | forum_site.browser_codes()
    missing -= found
    assert not missing, f"links a reader sees but the browser crawl missed: {sorted(missing)}"
    assert forum_site.PRIVATE_CODE not in found
    assert forum.paths("/private") == []
    assert rendered[0] is True
    assert rendered[1] > 20

    # Chromium never received a media body: images are off in Blink, image/media/font requests are
    # aborted, and a URL is only rendered after a header-only check said it is a page.
    assert forum.media_bodies() == []
    media = [r for r in forum.requests() if r.path.startswith("/media/")]
    assert [r.path for r in media if r.body_sent is not False] == []
    attach = [r for r in forum.requests() if r.path.startswith("/attach/")]
    assert len(attach) == 1
    assert attach[0].body_sent is False

    (run,) = runs(db)
    assert run["status"] == "finished"
    assert run["media_refused"] == 1
    # Tabs are reused (crawler.browser.TabReusingHandler): every page rendered got a tab, fewer tabs
    # were opened than pages rendered, and every tab opened was closed by the end.
    stats = run["stats"]
    assert stats["playwright/page_count"] + stats.get("linkwatch/tabs_reused", 0) >= rendered[1]
    assert stats.get("linkwatch/tabs_reused", 0) > 0
    assert stats.get("playwright/page_count/closed", 0) == stats["playwright/page_count"]
