"""Distributed crawl: workers sharing one Redis frontier crawl the local forum once, like one worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter

import psycopg
import pytest
import redis

from crawler.frontier import RunKeys
from linkwatch.db import runs as run_rows
from linkwatch.db.runs import SourceLockedError
from tests.utils import forum as forum_site
from tests.utils.crawl import LINKWATCH, UA, codes, runs, sources_toml
from tests.utils.waiting import wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

IDLE = "2"  # --idle-timeout for the workers: seconds of an empty shared queue before they stop
WAIT = 180  # no worker may take longer than this


def _name() -> str:
    return f"d{uuid.uuid4().hex[:10]}"


def _worker(name: str, sources: str, redis_url: str, env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [LINKWATCH, "crawl", name, "--sources", sources, "--redis", redis_url, "--idle-timeout", IDLE,
         *extra],
        env={**os.environ, **env, "LINKWATCH_USER_AGENT": UA},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(workers: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    results = []
    deadline = time.monotonic() + WAIT
    for proc in workers:
        try:
            out, err = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for p in workers:
                p.kill()
            raise
        results.append((proc.returncode, out, err))
    return results


def _fetch_counts(forum) -> Counter:
    return Counter(forum.paths())


def _assert_each_page_once(counts: Counter, workers: int, *, flaky: int = 2) -> None:
    # robots.txt is read by every worker for itself; /flaky answers 500 once (a forum's first
    # visit only), then the retry gets it
    assert 1 <= counts.pop("/robots.txt") <= workers  # not read by a worker that fetched nothing
    assert counts.pop("/flaky") == flaky
    assert "/private/secret" not in counts, "robots.txt disallows /private/"
    twice = {path: n for path, n in counts.items() if n > 1}
    assert not twice, f"pages fetched more than once: {twice}"


def _no_duplicate_rows(db: str, run_ids: list[int]) -> None:
    """No URL stored twice by the workers of one run, no link stored twice at all."""
    with psycopg.connect(db) as conn:
        assert conn.execute(
            "SELECT count(*) FROM (SELECT url FROM pages WHERE crawl_run_id = ANY(%s) "
            "GROUP BY url HAVING count(*) > 1) d",
            (run_ids,),
        ).fetchone()[0] == 0
        assert conn.execute(
            "SELECT count(*) FROM (SELECT platform, code FROM links GROUP BY 1, 2 HAVING count(*) > 1) d"
        ).fetchone()[0] == 0


def _run_keys(redis_url: str, name: str) -> list[bytes]:
    return redis.Redis.from_url(redis_url).keys(f"linkwatch:{name}:*")


def _baseline(lw_env: dict[str, str], tmp_path) -> set[str]:
    """The links one ordinary worker finds in the forum (then the database is emptied again)."""
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with forum_site.TestForum() as forum:
        path = tmp_path / "base.toml"
        path.write_text(sources_toml(forum.url, name="base"), encoding="utf-8")
        proc = subprocess.run(
            [LINKWATCH, "crawl", "base", "--sources", str(path)],
            env={**os.environ, **lw_env, "LINKWATCH_USER_AGENT": UA},
            capture_output=True, text=True, timeout=WAIT, check=False,
        )
        assert proc.returncode == 0, proc.stderr
        single = _fetch_counts(forum)
    found = codes(db)
    with psycopg.connect(db) as conn:
        conn.execute("TRUNCATE links, pages, sightings, crawl_runs, sources RESTART IDENTITY CASCADE")
    _assert_each_page_once(single, workers=1)
    return found


def test_two_workers_fetch_each_page_once_and_store_what_one_worker_stores(lw_env, redis_url, tmp_path):
    db = lw_env["LINKWATCH_DATABASE_URL"]
    single = _baseline(lw_env, tmp_path)
    assert forum_site.static_codes() <= single
    name = _name()
    with forum_site.TestForum() as forum:
        path = tmp_path / "sources.toml"
        # a small delay keeps the crawl going long enough for both workers to take pages
        path.write_text(sources_toml(forum.url, name=name).replace("delay = 0.0", "delay = 0.2"),
                        encoding="utf-8")
        workers = [_worker(name, str(path), redis_url, lw_env) for _ in range(2)]
        results = _finish(workers)
        first = _fetch_counts(forum)
        for code, _out, err in results:
            assert code == 0, err
            assert "Traceback" not in err
            assert "Deprecat" not in err
        assert all(f"{name}: finished" in out for _code, out, _err in results)
        _assert_each_page_once(Counter(first), workers=2)
        assert codes(db) == single
        rows = runs(db)
        _no_duplicate_rows(db, [r["id"] for r in rows])

        assert len(rows) == 2
        assert {r["trigger"] for r in rows} == {"distributed"}
        assert {r["status"] for r in rows} == {"finished"}
        tokens = {r["stats"]["linkwatch/run_token"] for r in rows}
        assert len(tokens) == 1
        assert all(r["pages"] > 0 for r in rows), "both workers took pages from the shared queue"
        with psycopg.connect(db) as conn:
            assert sum(r["pages"] for r in rows) == conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        # the last worker out deleted the run's keys
        assert _run_keys(redis_url, name) == []

        # a second (full) run starts fresh: its own token, every page fetched again, still no duplicates
        results = _finish([_worker(name, str(path), redis_url, lw_env, "--full") for _ in range(2)])
        assert [code for code, _o, _e in results] == [0, 0], results[0][2] + results[1][2]
        again = Counter(forum.paths()) - first
        _assert_each_page_once(again, workers=2, flaky=1)
        thread_pages = sorted(p for p in first if p.startswith("/thread/"))
        assert len(thread_pages) == 18
        assert sorted(p for p in again if p.startswith("/thread/")) == thread_pages
    second = runs(db)[2:]
    assert len(second) == 2
    assert {r["stats"]["linkwatch/run_token"] for r in second}.isdisjoint(tokens)
    assert codes(db) == single
    _no_duplicate_rows(db, [r["id"] for r in second])
    assert _run_keys(redis_url, name) == []


def _slow_sources(tmp_path, url: str, name: str):
    """A sources file whose crawl is slow enough (polite delay, one request at a time) for a second
    worker to join or a first to leave mid-way."""
    path = tmp_path / "sources.toml"
    text = sources_toml(url, name=name).replace("delay = 0.0", "delay = 0.3")
    path.write_text(text.replace("concurrency = 4", "concurrency = 1"), encoding="utf-8")
    return path


def test_a_worker_joining_late_helps_and_both_finish(lw_env, redis_url, tmp_path):
    db = lw_env["LINKWATCH_DATABASE_URL"]
    name = _name()
    with forum_site.TestForum() as forum:
        path = _slow_sources(tmp_path, forum.url, name)
        early = _worker(name, str(path), redis_url, lw_env)
        # The second worker starts as soon as the first is crawling (it made the run before its first
        # request): a process takes seconds to start on a loaded machine, and the crawl is short.
        wait_for(lambda: len(forum.paths()) > 1 or early.poll() is not None, timeout=60)
        assert early.poll() is None, "the first worker finished before the second could join"
        late = _worker(name, str(path), redis_url, lw_env)
        results = _finish([early, late])
        counts = Counter(forum.paths())
    for code, _out, err in results:
        assert code == 0, err
    _assert_each_page_once(counts, workers=2)
    assert forum_site.static_codes() <= codes(db)
    first, second = runs(db)
    _no_duplicate_rows(db, [first["id"], second["id"]])
    assert first["stats"]["linkwatch/run_token"] == second["stats"]["linkwatch/run_token"]
    assert first["stats"]["linkwatch/first_worker"] is True
    assert second["stats"]["linkwatch/first_worker"] is False
    assert second["pages"] > 0, "the late worker took pages from the shared queue"
    with psycopg.connect(db) as conn:
        assert first["pages"] + second["pages"] == conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    assert _run_keys(redis_url, name) == []


def test_workers_share_the_source_lock_but_exclude_a_normal_crawl(db) -> None:
    from linkwatch.sources import Source

    conns = [psycopg.connect(db, autocommit=True) for _ in range(3)]
    try:
        source = Source(name="locked", start_urls=["http://forum.test/"])
        source_id = run_rows.upsert_source(conns[0], source)
        assert run_rows.lock_source(conns[0], source_id, "locked", shared=True) is True  # first worker
        assert run_rows.lock_source(conns[1], source_id, "locked", shared=True) is False  # joins it
        with pytest.raises(SourceLockedError, match="another crawl"):
            run_rows.lock_source(conns[2], source_id, "locked")
        for conn in conns[:2]:  # (closing would too, but the server notices a close a moment later)
            conn.execute("SELECT pg_advisory_unlock_shared(%s, %s)", (run_rows.LOCK_NAMESPACE, source_id))
        assert run_rows.lock_source(conns[2], source_id, "locked") is True  # workers gone
        other = psycopg.connect(db, autocommit=True)
        conns.append(other)
        with pytest.raises(SourceLockedError, match="non-distributed crawl"):
            run_rows.lock_source(other, source_id, "locked", shared=True)
    finally:
        for conn in conns:
            conn.close()


def test_a_worker_waits_out_another_workers_exclusive_moment(db) -> None:
    """Two workers started together: the first holds the lock exclusively while it learns it is
    alone, then shares it; the second must join, not report a non-distributed crawl."""
    import threading

    from linkwatch.sources import Source

    first, second = (psycopg.connect(db, autocommit=True) for _ in range(2))
    try:
        source_id = run_rows.upsert_source(first, Source(name="together", start_urls=["http://forum.test/"]))
        args = (run_rows.LOCK_NAMESPACE, source_id)
        first.execute("SELECT pg_advisory_lock(%s, %s)", args)  # the first worker's exclusive moment

        def share_it() -> None:
            time.sleep(0.5)
            first.execute("SELECT pg_advisory_lock_shared(%s, %s)", args)
            first.execute("SELECT pg_advisory_unlock(%s, %s)", args)

        sharing = threading.Thread(target=share_it)
        sharing.start()
        try:
            assert run_rows.lock_source(second, source_id, "together", shared=True) is False  # joined
        finally:
            sharing.join()
    finally:
        first.close()
        second.close()


def test_a_worker_stopped_mid_run_hands_its_work_to_the_others(lw_env, redis_url, tmp_path):
    import signal

    db = lw_env["LINKWATCH_DATABASE_URL"]
    name = _name()
    with forum_site.TestForum() as forum:
        path = _slow_sources(tmp_path, forum.url, name)
        stays, leaves = (_worker(name, str(path), redis_url, lw_env) for _ in range(2))
        deadline = time.monotonic() + 60
        while len(forum.paths("/thread/")) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        leaves.send_signal(signal.SIGINT)
        (left_code, _o, left_err), (code, _out, err) = _finish([leaves, stays])
        counts = Counter(forum.paths())
    assert left_code == 130, left_err
    assert code == 0, err
    assert forum_site.static_codes() <= codes(db)
    rows = {r["pid"]: r for r in runs(db)}
    assert rows[leaves.pid]["status"] == "interrupted"
    assert rows[stays.pid]["status"] == "finished"
    assert rows[leaves.pid]["stats"]["linkwatch/run_token"] == rows[stays.pid]["stats"]["linkwatch/run_token"]
    requeued = rows[leaves.pid]["stats"].get("linkwatch/requeued", 0)
    counts.pop("/robots.txt")
    counts.pop("/flaky")
    # a download cut off by the stop may have reached the server before it went back to the queue
    assert sum(n - 1 for n in counts.values()) <= requeued, counts.most_common(5)
    assert _run_keys(redis_url, name) == []


def test_an_unreachable_redis_is_one_sentence_and_no_run(lw_env, tmp_path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(sources_toml("http://127.0.0.1:9", name="unreach"), encoding="utf-8")
    result = subprocess.run(
        [LINKWATCH, "crawl", "unreach", "--sources", str(path), "--redis", "redis://127.0.0.1:1/0"],
        env={**os.environ, **lw_env, "LINKWATCH_USER_AGENT": UA}, capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot use Redis for the distributed crawl: ")
    assert "Traceback" not in result.stderr
    assert runs(lw_env["LINKWATCH_DATABASE_URL"]) == []


def test_run_keys_outlive_workers_only_while_needed(redis_url) -> None:
    from crawler.frontier import SharedRun, current_key

    name = _name()
    a = SharedRun.join(redis_url, name, worker="a")
    b = SharedRun.join(redis_url, name, worker="b")
    try:
        assert (a.first, b.first) == (True, False)
        assert a.token == b.token
        assert a.claim("http://forum.test/") is True
        assert b.claim("http://forum.test/") is False
        assert [a.take_budget(3), b.take_budget(3), a.take_budget(3), b.take_budget(3)] == [
            True, True, True, False,
        ]
        assert a.leave(finished=True) == 1  # b still runs: nothing deleted
        assert _run_keys(redis_url, name) != []
        assert b.leave(finished=True) == 0  # last out of a finished run: everything gone
        assert _run_keys(redis_url, name) == []

        c = SharedRun.join(redis_url, name, worker="c")  # the next run starts fresh
        assert c.first is True
        assert c.token != a.token
        assert c.claim("http://forum.test/") is True
        assert c.leave(finished=False) == 0  # interrupted: the keys stay for a resumed run...
        d = SharedRun.join(redis_url, name, worker="d")
        assert (d.first, d.token) == (False, c.token)
        assert d.claim("http://forum.test/") is False
        ttl = redis.Redis.from_url(redis_url).ttl(current_key(name))
        assert 0 < ttl <= 60  # ...until `current` expires without a heartbeat
        d.leave(finished=True)
        c.close()
        d.close()
    finally:
        a.close()
        b.close()
    assert _run_keys(redis_url, name) == []


def test_the_page_budget_is_global(lw_env, redis_url, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    name = _name()
    with forum_site.TestForum() as forum:
        path = tmp_path / "sources.toml"
        text = sources_toml(forum.url, name=name).replace("max_pages = 300", "max_pages = 12")
        path.write_text(text.replace("delay = 0.0", "delay = 0.2"), encoding="utf-8")
        results = _finish([_worker(name, str(path), redis_url, lw_env) for _ in range(2)])
        # a redirect's target is part of the one request the budget counted
        pages = [p for p in forum.paths() if p not in ("/robots.txt", "/loop/b", "/loop/a?again=1")]
    assert [code for code, _o, _e in results] == [0, 0], results[0][2] + results[1][2]
    assert 6 <= len(set(pages)) <= 12, sorted(set(pages))
    rows = runs(db)
    assert {r["stats"]["linkwatch/run_budget_used"] >= 12 for r in rows} == {True}
    assert sum(r["pages"] for r in rows) <= 12


# A worker process in miniature: a second scheduler opens on a run whose shared queue holds requests.
JOIN_QUEUED_RUN = """
import sys
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler
from scrapy_redis.scheduler import Scheduler
from crawler.frontier import RunKeys, quiet_scrapy_redis, scrapy_settings

quiet_scrapy_redis()  # as `linkwatch crawl --redis` does
settings = scrapy_settings(sys.argv[1], RunKeys(sys.argv[2], sys.argv[3]), "w1", 1.0)
crawler = get_crawler(Spider, settings)
spider = Spider.from_crawler(crawler, name="lw-join")
first = Scheduler.from_crawler(crawler)
first.open(spider)
first.enqueue_request(Request("http://127.0.0.1:9/queued"))
joining = Scheduler.from_crawler(crawler)
joining.open(spider)
print(len(joining.queue))
"""


def test_a_worker_joining_a_queued_run_shows_no_deprecation_warning(redis_url) -> None:
    """scrapy-redis announces a non-empty shared queue with Scrapy's deprecated Spider.log()."""
    keys = RunKeys(_name(), uuid.uuid4().hex)
    try:
        proc = subprocess.run(
            [sys.executable, "-W", "default", "-c", JOIN_QUEUED_RUN, redis_url, keys.source, keys.token],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "1"  # the joining worker sees the queued request
        assert "Deprecat" not in proc.stderr
    finally:
        redis.Redis.from_url(redis_url).delete(*keys.all())
