"""store_batch() and StorePipeline against real PostgreSQL: counts, idempotency, flushing, bad data."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psycopg
from scrapy.utils.test import get_crawler

from linkwatch.db.spill import pending_spills
from linkwatch.db.store import STORE_STEPS, store_batch
from pipelines.store import StorePipeline
from tests.utils.store import T0, counts, make_page, pipeline, snapshot


def test_store_batch_counts(db: str) -> None:
    pages = [make_page(1, [1, 2, 3]), make_page(2, [3, 4]), make_page(3, [])]
    with psycopg.connect(db, autocommit=True) as conn:
        result = store_batch(conn, pages, None)
        assert (result.pages, result.links_found, result.links_new, result.sightings_new) == (3, 4, 4, 5)
        assert counts(conn) == {"pages": 3, "links": 4, "sightings": 5, "links_sightings_sum": 5}
        sightings = conn.execute(
            "SELECT sightings FROM links WHERE canonical_url = 'https://t.me/+FAKE3'"
        ).fetchone()[0]
        assert sightings == 2
        page = conn.execute("SELECT title, warc_file, warc_offset FROM pages WHERE url LIKE '%/2'").fetchone()
        assert page == ("스레드 2", "warc/1.warc.gz", 2)


def test_restoring_the_same_pages_changes_nothing(db: str) -> None:
    pages = [make_page(i, [i, i + 1, i + 2]) for i in range(20)]
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, pages, None)
        before, totals = snapshot(conn), counts(conn)
        again = store_batch(conn, pages, None)
        assert (again.links_new, again.sightings_new) == (0, 0)
        assert again.links_found == 22
        assert snapshot(conn) == before
        assert counts(conn) == totals


def test_a_later_crawl_moves_only_last_seen(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [make_page(1, [1, 2])], None)
        before = conn.execute("SELECT id, first_seen, sightings, score FROM links ORDER BY id").fetchall()
        later = T0 + timedelta(days=3)
        store_batch(conn, [make_page(1, [1, 2], when=later)], None)  # same bytes: same page version
        after = conn.execute("SELECT id, first_seen, sightings, score FROM links ORDER BY id").fetchall()
        assert after == before
        assert {r[0] for r in conn.execute("SELECT last_seen FROM links")} == {later}
        assert counts(conn)["pages"] == 1


def test_a_new_page_version_adds_only_the_posts_not_seen_before(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [make_page(1, [1], score=0.7)], None)
        # the thread changed (a new page version): the old post is still there, and a new one re-posts
        # the link; an older page with another post comes in late (e.g. a replayed spill)
        newer = make_page(1, [1], when=T0 + timedelta(hours=1), score=0.2)
        reposted = replace(newer.links[0], post="post:forum.test/77", context="new post", score=0.2)
        newer = replace(newer, sha256="f" * 64, links=(*newer.links, reposted))
        older = make_page(9, [1], when=T0 - timedelta(days=1), score=0.1)
        result = store_batch(conn, [newer, older], None)
        assert result.sightings_new == 2
        row = conn.execute("SELECT first_seen, last_seen, sightings, score FROM links").fetchone()
        assert row == (T0 - timedelta(days=1), T0 + timedelta(hours=1), 3, 0.7)
        scores = [r[0] for r in conn.execute("SELECT score FROM sightings ORDER BY page_id, id")]
        assert scores == [0.7, 0.2, 0.1]
        assert counts(conn) == {"pages": 3, "links": 1, "sightings": 3, "links_sightings_sum": 3}


def test_a_post_seen_under_another_url_is_one_sighting(db: str) -> None:
    """A permalink view or a print view shows the same post: the link was advertised once."""
    with psycopg.connect(db, autocommit=True) as conn:
        topic = make_page(1, [1, 2])
        topic = replace(topic, links=tuple(replace(link, post=f"post:forum.test/{i}")
                                           for i, link in enumerate(topic.links)))
        permalink = replace(topic, url="http://forum.test/post/0", sha256="e" * 64)
        result = store_batch(conn, [topic, permalink], None)
        assert result.sightings_new == 2
        assert counts(conn) == {"pages": 2, "links": 2, "sightings": 2, "links_sightings_sum": 2}


def test_a_page_that_differs_only_in_volatile_parts_is_the_same_version(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        first = replace(make_page(1, [1]), version="a" * 64)
        store_batch(conn, [first], None)
        # new bytes (a fresh sid and token), same version: nothing new, the first capture stays
        again = replace(first, sha256="b" * 64, version="a" * 64, warc_offset=99,
                        fetched_at=T0 + timedelta(hours=1))
        result = store_batch(conn, [again], None)
        assert (result.links_new, result.sightings_new) == (0, 0)
        assert conn.execute("SELECT sha256, warc_offset FROM pages").fetchall() == [(first.sha256, 1)]
        # a real change is a new version
        changed = replace(again, sha256="c" * 64, version="c" * 64)
        store_batch(conn, [changed], None)
        assert counts(conn)["pages"] == 2
        # both fetches of one version in one batch: one page row
        store_batch(conn, [replace(first, url="http://forum.test/x", sha256="d" * 64),
                           replace(first, url="http://forum.test/x", sha256="9" * 64)], None)
        assert counts(conn) == {"pages": 3, "links": 1, "sightings": 2, "links_sightings_sum": 2}


def test_duplicates_inside_one_batch_collapse(db: str) -> None:
    page = make_page(1, [1, 1, 2])
    with psycopg.connect(db, autocommit=True) as conn:
        result = store_batch(conn, [page, make_page(1, [1, 2])], None)
        assert (result.links_new, result.sightings_new) == (2, 2)
        assert counts(conn) == {"pages": 1, "links": 2, "sightings": 2, "links_sightings_sum": 2}


def test_on_step_reports_each_step_in_order_once_committed(db: str) -> None:
    seen: list[tuple[str, int]] = []
    with psycopg.connect(db, autocommit=True) as conn, psycopg.connect(db, autocommit=True) as other:

        def on_step(step: str) -> None:
            # Another session sees the batch only after the last step: one transaction per batch.
            seen.append((step, other.execute("SELECT count(*) FROM sightings").fetchone()[0]))

        store_batch(conn, [make_page(1, [1, 2])], None, on_step=on_step)
    assert [step for step, _ in seen] == list(STORE_STEPS)
    assert [n for _, n in seen] == [0] * (len(STORE_STEPS) - 1) + [2]


def test_last_seen_queries_use_the_index_kept_by_0005(db: str) -> None:
    with psycopg.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'links'")}
        assert "links_last_seen" not in names  # dropped: a prefix of links_last_seen_id
        conn.execute("SET enable_seqscan = off")  # an empty table would otherwise never use an index
        for query in (
            "SELECT id FROM links ORDER BY last_seen DESC, id DESC LIMIT 50",
            "SELECT id FROM links WHERE last_seen >= now() - interval '1 day'",
        ):
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query))
            assert "links_last_seen_id" in plan


def test_run_id_is_recorded(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        source = conn.execute("INSERT INTO sources (name) VALUES ('test-forum') RETURNING id").fetchone()[0]
        run = conn.execute(
            "INSERT INTO crawl_runs (source_id) VALUES (%s) RETURNING id", (source,)
        ).fetchone()[0]
        store_batch(conn, [make_page(1, [1])], run)
        assert conn.execute("SELECT crawl_run_id FROM pages").fetchone()[0] == run
        assert conn.execute("SELECT crawl_run_id FROM sightings").fetchone()[0] == run


def test_pipeline_flushes_by_size_and_at_close(db: str, tmp_path: Path) -> None:
    pipe, stats = pipeline(db, tmp_path, LINKWATCH_STORE_BATCH_SIZE=4, LINKWATCH_STORE_FLUSH_SECONDS=60)
    for i in range(10):
        pipe.process_item(make_page(i, [i, 100]))
    deadline = time.monotonic() + 10
    while stats.get_value("linkwatch/batches", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats.get_value("linkwatch/batches") == 2  # 8 pages by size, 2 still buffered
    pipe.close_spider()
    assert stats.get_value("linkwatch/batches") == 3
    assert stats.get_value("linkwatch/pages_stored") == 10
    assert stats.get_value("linkwatch/links_new") == 11
    assert stats.get_value("linkwatch/sightings_new") == 20
    with psycopg.connect(db) as conn:
        assert counts(conn) == {"pages": 10, "links": 11, "sightings": 20, "links_sightings_sum": 20}


def test_pipeline_flushes_by_time(db: str, tmp_path: Path) -> None:
    pipe, stats = pipeline(db, tmp_path, LINKWATCH_STORE_BATCH_SIZE=1000, LINKWATCH_STORE_FLUSH_SECONDS=0.2)
    pipe.process_item(make_page(1, [1]))
    deadline = time.monotonic() + 10
    while not stats.get_value("linkwatch/batches") and time.monotonic() < deadline:
        time.sleep(0.05)
    with psycopg.connect(db) as conn:
        assert counts(conn)["pages"] == 1  # stored while the crawl is still open
    pipe.close_spider()
    assert stats.get_value("linkwatch/batches") == 1


def test_a_page_postgresql_rejects_is_set_aside_and_the_rest_stored(db: str, tmp_path: Path) -> None:
    pipe, stats = pipeline(db, tmp_path, LINKWATCH_STORE_BATCH_SIZE=100)
    page = make_page(5, [5])
    bad = replace(page, links=(replace(page.links[0], context="NUL \x00 slipped past normalise"),))
    for i in range(8):
        pipe.process_item(bad if i == 5 else make_page(i, [i]))
    pipe.close_spider()
    assert stats.get_value("linkwatch/dropped/db_rejected") == 1
    assert stats.get_value("linkwatch/pages_stored") == 7
    rejected = list((tmp_path / "spill" / "rejected").glob("*.jsonl"))
    assert len(rejected) == 1
    assert "thread/5" in rejected[0].read_text()
    assert pending_spills(tmp_path) == []
    with psycopg.connect(db) as conn:
        assert counts(conn)["pages"] == 7


def test_a_new_link_on_a_stored_page_version_is_counted(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [make_page(1, [1])], None)
        # Same bytes, but the extractor now also finds FAKE2 (e.g. a new platform rule).
        result = store_batch(conn, [make_page(1, [1, 2]), make_page(2, [2])], None)
        assert (result.links_found, result.links_new, result.sightings_new) == (2, 1, 2)
        assert counts(conn) == {"pages": 2, "links": 2, "sightings": 3, "links_sightings_sum": 3}
        assert conn.execute(
            "SELECT sightings FROM links WHERE code = 'FAKE2'"
        ).fetchone()[0] == 2


def test_pipeline_refuses_an_unmigrated_database(pg_admin_url: str, tmp_path: Path) -> None:
    import secrets

    import pytest
    from psycopg import sql
    from scrapy.exceptions import CloseSpider

    name = f"lw_unmigrated_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
        settings = {"LINKWATCH_DATABASE_URL": url, "LINKWATCH_DATA_DIR": str(tmp_path)}
        pipe = StorePipeline.from_crawler(get_crawler(settings_dict=settings))
        with pytest.raises(CloseSpider) as info:
            pipe.open_spider()
        assert "run `linkwatch db migrate`" in info.value.reason
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_db_check_finds_sightings_a_manual_delete_left_behind(db: str, lw_env: dict[str, str]) -> None:
    from click.testing import CliRunner

    from linkwatch.cli import main

    with psycopg.connect(db) as conn:
        store_batch(conn, [make_page(1, [1, 2]), make_page(2, [2])], None)
    runner = CliRunner()
    ok = runner.invoke(main, ["--database-url", db, "db", "check"])
    assert ok.exit_code == 0, ok.output
    assert "integrity ok" in ok.output
    assert "1 stored batch(es) wait for the context search copy" in ok.output  # no copier ran
    copied = runner.invoke(main, ["--database-url", db, "db", "replay"])
    assert "copied 1 queued sighting range(s)" in copied.output
    assert "wait for the context search copy" not in runner.invoke(
        main, ["--database-url", db, "db", "check"]).output
    with psycopg.connect(db) as conn:
        conn.execute("DELETE FROM links WHERE code = 'FAKE2'")  # an analyst's manual delete
        conn.execute("DELETE FROM pages WHERE url = 'http://forum.test/thread/1'")
        conn.commit()
        assert conn.execute("SELECT count(*) FROM sightings").fetchone()[0] == 3  # evidence kept
    bad = runner.invoke(main, ["--database-url", db, "db", "check"])
    assert bad.exit_code == 1
    assert "2 sighting(s) without their link, 2 without their page" in bad.output
