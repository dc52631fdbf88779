"""`linkwatch crawl` against the local test forum: links found, robots obeyed, traps bounded, no media."""

from __future__ import annotations

import os

import psycopg
import pytest

from linkwatch.errors import EXIT_LOCKED
from tests.utils import forum as forum_site
from tests.utils.crawl import MAX_DEPTH, UA, codes, count, run_linkwatch, runs, sources_toml


@pytest.mark.slow
def test_static_crawl_finds_every_visible_link_and_nothing_forbidden(forum, lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(forum.url), encoding="utf-8")

    result = run_linkwatch(["crawl", "tf", "--sources", str(sources)], lw_env)
    assert result.returncode == 0, result.stderr
    assert "tf: finished" in result.stdout

    found = codes(db)
    missing = forum_site.static_codes() - found
    assert not missing, f"links a reader sees but the crawl missed: {sorted(missing)}"
    # robots.txt: /private/ is disallowed, so it was never fetched and its link never found
    assert forum_site.PRIVATE_CODE not in found
    assert forum.paths("/private") == []
    assert forum.paths("/robots.txt") == ["/robots.txt"]
    # the User-Agent names the operator
    assert {r.user_agent for r in forum.requests()} == {UA}

    # no media: nothing media-looking requested; attachments cut off before their body: the one
    # labelled image/jpeg at its headers, the PNGs behind redirects labelled image/png, text/html,
    # nothing, or gzip-encoded text/html, at their first bytes
    assert forum.media_requests() == []
    assert forum.browser_only_requests() == []
    assert forum.media_bodies() == []
    attach = [r for r in forum.requests() if r.path.startswith("/attach/download")]
    assert len(attach) == 1
    assert attach[0].body_sent is False
    files = {r.path: r.body_sent for r in forum.requests() if r.path.startswith("/files/")}
    assert files == {f"/files/{n}": False for n in forum_site.ATTACHMENTS}
    # never an account page, never a cookie (the forum sets one on every page)
    assert forum.account_requests() == []
    assert forum_site.ACCOUNT_CODE not in found
    assert forum.with_cookies() == []

    # traps stay bounded
    assert len(forum.paths("/calendar")) <= 2 * MAX_DEPTH
    assert len(forum.paths("/sess/page1")) == 1
    assert len(forum.paths("/sess/page2")) == 1
    assert len(forum.paths("/loop/")) <= 6
    assert len(forum.paths("/huge")) == 1
    assert forum_site.HUGE_CODE not in found
    assert len(forum.paths("/flaky")) == 2  # 500, then a retry that got the page
    assert len(forum.paths("/slow")) == 1
    assert forum.paths("/go") == []  # redirectors off the site are read, not fetched
    # every thread page fetched exactly once
    thread_paths = forum.paths("/thread/")
    assert len(thread_paths) == len(set(thread_paths)) == 18

    (run,) = runs(db)
    assert run["status"] == "finished"
    assert run["source"] == "tf"
    assert run["finished_at"] is not None
    assert run["pages"] == count(db, "SELECT count(*) FROM pages WHERE crawl_run_id = %s", run["id"]) > 30
    assert run["new_links"] == len(found) == count(db, "SELECT count(*) FROM links")
    assert run["links"] >= run["new_links"]
    assert run["media_refused"] == 1 + len(forum_site.ATTACHMENTS)
    assert run["stats"]["media/refused/by_first_bytes"] == 3  # text/html, no type, gzip
    assert run["stats"]["linkwatch/skipped_account_pages"] > 0
    assert run["errors"] >= 1  # the huge page
    assert run["bytes"] > 0
    assert run["stats"]["finish_reason"] == "finished"

    # a re-crawl adds nothing
    sightings = count(db, "SELECT count(*) FROM sightings")
    again = run_linkwatch(["crawl", "tf", "--sources", str(sources)], lw_env)
    assert again.returncode == 0, again.stderr
    second = runs(db)[-1]
    assert second["status"] == "finished"
    assert second["new_links"] == 0
    assert codes(db) == found
    # only pages whose bytes changed (fresh session ids on each visit) are new versions
    with psycopg.connect(db) as conn:
        changed = {
            r[0].split("?")[0].removeprefix(forum.url)
            for r in conn.execute("SELECT url FROM pages WHERE crawl_run_id = %s", (second["id"],))
        }
    assert changed <= {"/", "/sess/page1", "/sess/page2"}
    assert count(db, "SELECT count(*) FROM sightings") - sightings <= 3


def test_adhoc_crawl_respects_the_page_budget_and_says_it_ran_out(forum, lw_env) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    result = run_linkwatch(["crawl", "--url", forum.url + "/board/1?page=1", "--max-pages", "4"], lw_env)
    assert result.returncode == 0, result.stderr
    # a budget that ran out is not a complete crawl, and the summary says how to raise it
    assert "page budget of 4 ran out" in result.stdout
    assert "--max-pages" in result.stdout
    (run,) = runs(db)
    assert run["source"] == "127.0.0.1"
    assert run["adhoc"] is True
    assert run["status"] == "finished"
    pages = [p for p in forum.paths() if p != "/robots.txt"]
    assert len(pages) == 4
    assert run["pages"] == 4


def test_a_crawl_within_its_budget_does_not_mention_it(forum, lw_env) -> None:
    result = run_linkwatch(["crawl", "--url", forum.url + "/board/kr", "--max-pages", "4"], lw_env)
    assert result.returncode == 0, result.stderr
    assert "budget" not in result.stdout


def test_allow_limits_what_is_followed(forum, lw_env) -> None:
    result = run_linkwatch(["crawl", "--url", forum.url + "/", "--allow", r"/board/1"], lw_env)
    assert result.returncode == 0, result.stderr
    followed = {p.split("?")[0] for p in forum.paths() if p not in ("/", "/robots.txt")}
    assert followed == {"/board/1"}


def test_a_source_already_being_crawled_is_refused(forum, lw_env, tmp_path) -> None:
    from linkwatch.db import runs as run_db
    from linkwatch.sources import parse_sources

    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(forum.url), encoding="utf-8")
    (source,) = parse_sources(sources.read_text())
    with psycopg.connect(db, autocommit=True) as holder:
        source_id = run_db.upsert_source(holder, source)
        run_db.lock_source(holder, source_id, "tf")
        result = run_linkwatch(["crawl", "tf", "--sources", str(sources)], lw_env)
    assert result.returncode == EXIT_LOCKED  # the scheduler reads "skipped" from this status
    assert "another crawl of source 'tf' is running" in result.stderr
    assert "Traceback" not in result.stderr
    assert forum.requests() == []


def test_bad_input_is_one_clear_sentence(lw_env, tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nname = "a"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
    unknown = run_linkwatch(["crawl", "nope", "--sources", str(sources)], lw_env)
    assert unknown.returncode == 1
    assert "no source named 'nope'" in unknown.stderr
    neither = run_linkwatch(["crawl"], lw_env)
    assert neither.returncode == 2
    assert "give at least one source NAME" in neither.stderr
    bad = run_linkwatch(["crawl", "--url", "notaurl"], lw_env)
    assert bad.returncode == 2  # a bad option value is a usage error
    assert "is not an http(s) URL" in bad.stderr
    for r in (unknown, neither, bad):
        assert "Traceback" not in r.stderr


def test_pending_migrations_are_reported(pg_admin_url, lw_env, tmp_path) -> None:
    from psycopg import sql

    name = f"lw_unmigrated_{os.getpid()}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
        result = run_linkwatch(["--database-url", url, "crawl", "--url", "http://127.0.0.1:9/"], lw_env)
        assert result.returncode == 1
        assert "run `linkwatch db migrate`" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
