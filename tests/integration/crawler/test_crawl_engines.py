"""Static crawls of what real forum engines do: aliases of one page, permalinks, account links, pagers.

The local forum's /forum/ section is a classic server-rendered engine (slugged topics with
rel=canonical, `?page=1` aliases, slug-less mini-pager links, per-post permalinks that redirect,
sorted member lists, login/reply/report/PM links on every page); /app/'s pager is broken without
JavaScript while its `<link rel="next">` is right. Assertions come from the forum's request log.
"""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import codes, run_linkwatch, runs

pytestmark = pytest.mark.slow


def _source(url: str, start: str, extra: str = "", depth: int = 8) -> str:
    return f"""
[[source]]
name = "engine"
start_urls = ["{url}{start}"]
delay = 0.0
concurrency = 4
max_depth = {depth}
max_pages = 500
{extra}
"""


def test_a_classic_engine_costs_about_one_request_per_page(forum, lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(_source(forum.url, "/forum/"), encoding="utf-8")
    result = run_linkwatch(["crawl", "engine", "--sources", str(sources)], lw_env)
    assert result.returncode == 0, result.stderr

    found = codes(db)
    assert forum_site.classic_codes() <= found, sorted(forum_site.classic_codes() - found)
    requests = [r.path for r in forum.requests() if r.path != "/robots.txt"]
    pages = forum_site.classic_pages()
    # Target of issue 12: at most 1.1 requests per distinct page (was ~4.4 on such an engine)
    assert len(requests) <= 1.1 * len(pages), sorted(requests)
    assert [p for p, n in Counter(requests).items() if n > 1] == []
    # every topic page was reached, under one URL or another
    reached = {_topic_page(p) for p in requests if p.startswith("/topic/")}
    assert reached == {(t, n) for t in forum_site.topic_ids() for n in range(1, forum_site.TOPIC_PAGES + 1)}
    # ?page=1 is the view itself; sorting the member list does not make new pages
    assert [p for p in requests if p.startswith("/members")] == ["/members"]
    assert [p for p in requests if "-synthetic-topic-" in p and "page=1" in p] == []
    # a post's permalink on the page that shows the post is not fetched; the one elsewhere once
    assert [p for p in requests if p.startswith("/post/")] == [f"/post/{forum_site.post_id(111, 1, 1)}"]
    # never an account page, never a cookie
    assert forum.account_requests() == []
    assert forum.with_cookies() == []

    (run,) = runs(db)
    assert run["status"] == "finished"
    stats = run["stats"]
    assert stats["linkwatch/skipped_account_pages"] > 0
    assert stats["linkwatch/skipped_permalinks"] > 0
    # a link posted once is seen about once, not once per URL of its page
    with psycopg.connect(db) as conn:
        sightings = conn.execute("SELECT count(*) FROM sightings").fetchone()[0]
    assert sightings <= 1.1 * len(found)


def _topic_page(path: str) -> tuple[int, int]:
    head, _sep, query = path.partition("?")
    page = int(query.removeprefix("page=")) if query.startswith("page=") else 1
    return int(head.removeprefix("/topic/").split("-", 1)[0]), page


def test_a_pager_hint_reaches_what_a_broken_pager_hides(forum, lw_env, tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(_source(forum.url, "/app/"), encoding="utf-8")
    result = run_linkwatch(["crawl", "engine", "--sources", str(sources)], lw_env)
    assert result.returncode == 0, result.stderr
    found = codes(lw_env["LINKWATCH_DATABASE_URL"])
    # boards 6-10 are linked only from /app/?page=2, which only <link rel="next"> names
    missing = forum_site.app_static_codes() - found
    assert not missing, sorted(missing)
    assert "/app/?page=2" in forum.paths("/app/")


def test_a_source_may_follow_account_pages_or_name_its_own(forum, lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(_source(forum.url, "/forum/", "account_pages = []", depth=1), encoding="utf-8")
    result = run_linkwatch(["crawl", "engine", "--sources", str(sources)], lw_env)
    assert result.returncode == 0, result.stderr
    assert forum.account_requests() != []
    assert forum_site.ACCOUNT_CODE in codes(db)

    bad = tmp_path / "bad.toml"
    bad.write_text(_source(forum.url, "/forum/", 'account_pages = "login"'), encoding="utf-8")
    result = run_linkwatch(["crawl", "engine", "--sources", str(bad)], lw_env)
    assert result.returncode == 1
    assert "field 'account_pages'" in result.stderr
    assert "Traceback" not in result.stderr
