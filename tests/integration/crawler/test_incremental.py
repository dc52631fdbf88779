"""`linkwatch crawl` of a source crawled before: only what can have changed is fetched (issue #16)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.utils.board import Board
from tests.utils.crawl import LINKWATCH, UA, codes, run_linkwatch, runs, write_sources
from tests.utils.moving import Change, MovingForum


def _sources(tmp_path: Path, url: str, extra: str = "") -> dict[str, str]:
    path = write_sources(tmp_path, url, name="board", max_depth=5, max_pages=1000, extra=extra)
    return {"LINKWATCH_SOURCES": str(path)}


def test_a_second_crawl_of_an_unchanged_forum_fetches_only_its_listings(lw_env, tmp_path: Path) -> None:
    with Board(boards=4, threads=6, pages=3) as board:
        env = {**lw_env, **_sources(tmp_path, board.url)}
        first = run_linkwatch(["crawl", "board"], env)
        assert first.returncode == 0, first.stderr
        full = board.page_requests()
        assert full == len(board.page_paths())
        assert codes(lw_env["LINKWATCH_DATABASE_URL"]) == board.codes()
        second = run_linkwatch(["crawl", "board"], env)
        assert second.returncode == 0, second.stderr
        # the index and the four boards; no topic page again (its 24 first pages were seen, and left)
        assert board.page_requests() - full == 5
        assert "board: incremental crawl · 5 fetched · 24 skipped as unchanged" in second.stdout
        again = run_linkwatch(["crawl", "board", "--full"], env)
        assert again.returncode == 0, again.stderr
        assert board.page_requests() - full - 5 == full
    modes = [(r["mode"], r["pages"], r["skipped_unchanged"]) for r in runs(lw_env["LINKWATCH_DATABASE_URL"])]
    assert modes == [("full", full, 0), ("incremental", 5, 24), ("full", full, 0)]


def _moving(tmp_path: Path, url: str, extra: str = "") -> dict[str, str]:
    path = write_sources(tmp_path, url, name="moving", max_depth=20, max_pages=5000, extra=extra)
    return {"LINKWATCH_SOURCES": str(path)}


def _one_in_seven(forum: MovingForum) -> Change:
    """New topics, replies and deep replies (page 3+ of topics listed on page 2+): one topic in seven."""
    changed = forum.topics // 7
    deep = 6
    new_topics = changed // 4
    change = forum.advance(new_topics=new_topics, new_replies=changed - new_topics - deep, deep=deep)
    assert len(change.deep) == deep
    return change


@pytest.mark.parametrize("validators", [True, False], ids=["validators", "no-validators"])
def test_after_one_topic_in_seven_changed_a_crawl_finds_every_new_link_with_a_tenth_of_the_requests(
        lw_env, tmp_path: Path, validators: bool) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with MovingForum(boards=4, topics=60, validators=validators) as forum:
        env = {**lw_env, **_moving(tmp_path, forum.url)}
        first = run_linkwatch(["crawl", "moving"], env)
        assert first.returncode == 0, first.stderr
        assert codes(db) == forum.codes()
        full = forum.stats()["requests"]
        change = _one_in_seven(forum)
        forum.reset_counts()
        second = run_linkwatch(["crawl", "moving"], env)
        assert second.returncode == 0, second.stderr
        stats = forum.stats()
        assert change.codes  # the forum added adverts, and every one is found (recall 1.0)
        assert change.codes <= codes(db)
        assert codes(db) == forum.codes()
        assert stats["requests"] <= full // 10, (stats, full)
        # a new topic page is fetched; an old page of a changed topic other than its last is not
        assert all(forum.position(url) is not None for url in change.new_pages)
        old_pages = {forum.topic_url(t, p) for t in change.deep for p in (1, 2)}
        assert all(forum.position(url) is None for url in old_pages)
        if validators:  # the boards are asked conditionally; a changed topic's pages whole
            assert stats["conditional"].get("listing", 0) > 0
        else:
            assert stats["conditional"] == {}
        # nothing changed since: the boards answer 304 where the forum gives validators
        forum.reset_counts()
        third = run_linkwatch(["crawl", "moving"], env)
        assert third.returncode == 0, third.stderr
        stats = forum.stats()
        if validators:
            assert stats["not_modified"].get("listing", 0) == stats["by_kind"]["listing"] == 4
            assert "0 new pages" in third.stdout
            assert " 5 not modified (304)" in third.stdout  # the index and the four boards
    incremental = [r for r in runs(db) if r["mode"] == "incremental"]
    assert len(incremental) == 2
    assert incremental[0]["new_pages"] >= len(change.new_pages) + len(change.new_topics)
    assert incremental[0]["skipped_unchanged"] > 0
    assert incremental[0]["new_links"] == len(change.codes)


def test_full_and_the_full_sweep_fetch_everything(lw_env, tmp_path: Path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with MovingForum(boards=2, topics=30) as forum:
        env = {**lw_env, **_moving(tmp_path, forum.url)}
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        full = forum.stats()["requests"]
        forum.reset_counts()
        forced = run_linkwatch(["crawl", "moving", "--full"], env)
        assert forced.returncode == 0, forced.stderr
        assert forum.stats()["requests"] == full
        assert forum.stats()["conditional"] == {}  # a full pass asks for every page whole
        forum.reset_counts()
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        assert forum.stats()["requests"] < full // 10
        # the last full crawl is now eight days old: the weekly sweep is due
        with psycopg.connect(db) as conn:
            conn.execute("UPDATE crawl_runs SET started_at = started_at - interval '8 days' "
                         "WHERE mode = 'full'")
        forum.reset_counts()
        swept = run_linkwatch(["crawl", "moving"], env)
        assert swept.returncode == 0, swept.stderr
        assert forum.stats()["requests"] == full
        assert "moving: full crawl" in swept.stdout
    assert [r["mode"] for r in runs(db)] == ["full", "full", "incremental", "full"]


def test_a_killed_incremental_crawl_resumed_loses_nothing_and_status_shows_its_figures(
        lw_env, tmp_path: Path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with MovingForum(boards=4, topics=60) as forum:
        env = {**lw_env, **_moving(tmp_path, forum.url)}
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        change = _one_in_seven(forum)
        forum.reset_counts()
        proc = subprocess.Popen([LINKWATCH, "crawl", "moving"],
                                env={**os.environ, **env, "LINKWATCH_USER_AGENT": UA},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        forum.wait_for_requests(12)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        resumed = run_linkwatch(["crawl", "moving", "--resume"], env)
        assert resumed.returncode == 0, resumed.stderr
        assert change.codes <= codes(db)
        assert codes(db) == forum.codes()
        # and the run after it still finds what the next change adds
        later = forum.advance(new_replies=3, new_topics=1)
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        assert later.codes <= codes(db)
    status = run_linkwatch(["sources", "status", "moving", "--format", "json"], env)
    assert status.returncode == 0, status.stderr
    (row,) = json.loads(status.stdout)
    assert row["mode"] == "incremental"
    assert row["new_pages"] >= 1
    assert row["skipped_unchanged"] > 0
    table = run_linkwatch(["sources", "status", "moving"], {**env, "COLUMNS": "200"})
    assert "incremental" in table.stdout


def test_a_reply_on_a_last_page_first_reached_from_the_index_is_found(lw_env, tmp_path: Path) -> None:
    """The index links each board's newest topic at its last page (\"last post\"): that page is fetched
    before the topic is seen in its board, so the topic learns its last page from its own pager."""
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with MovingForum(boards=3, topics=30) as forum:
        env = {**lw_env, **_moving(tmp_path, forum.url)}
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        per = forum.posts_per_page
        newest = [ids[0] for ids in forum.order if ids]
        # a reply that lands on the topic's existing last page (page 2+), not on a new one
        sizes = {t: len(forum.topic_posts[t]) for t in newest}
        targets = tuple(t for t, n in sizes.items() if n > per and n % per)
        assert targets
        change = forum.advance(reply_to=targets)
        assert not change.new_pages
        forum.reset_counts()
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        assert change.codes <= codes(db)
        # read from its last page: page 1 is not fetched again
        assert all(forum.position(forum.topic_url(t)) is None for t in targets)


def test_feeds_and_sitemaps_are_found_then_read_every_run(lw_env, tmp_path: Path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with MovingForum(boards=3, topics=60, feeds=True) as forum:
        env = {**lw_env, **_moving(tmp_path, forum.url)}
        first = run_linkwatch(["crawl", "moving"], env)
        assert first.returncode == 0, first.stderr
        assert codes(db) == forum.codes()
        with psycopg.connect(db) as conn:
            kinds = dict(conn.execute("SELECT fetch_url, kind FROM url_state "
                                      "WHERE kind IN ('feed', 'sitemap')"))
        assert kinds == {
            forum.url + "/feed.atom": "feed", forum.url + "/feed.rss": "feed",
            forum.url + "/sitemap.xml": "sitemap",
            **{forum.url + f"/sitemap-{b}.xml": "sitemap" for b in range(3)},
        }
        change = _one_in_seven(forum)
        forum.reset_counts()
        second = run_linkwatch(["crawl", "moving"], env)
        assert second.returncode == 0, second.stderr
        assert change.codes <= codes(db)
        stats = forum.stats()
        assert stats["by_kind"]["feed"] == 2
        assert stats["not_modified"].get("feed", 0) == 0  # the feeds changed: read whole
        # nothing new: the feeds and the sitemap index answer 304, no child sitemap is read
        forum.reset_counts()
        assert run_linkwatch(["crawl", "moving"], env).returncode == 0
        stats = forum.stats()
        assert stats["not_modified"]["feed"] == 2
        assert stats["by_kind"]["sitemap"] == stats["not_modified"]["sitemap"]
