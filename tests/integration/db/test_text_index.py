"""The context search copy (migration 0007): queued by trigger, filled behind the writer, searchable."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from linkwatch.db.links import LinkFilters, search
from linkwatch.db.migrate import migrate
from linkwatch.db.store import store_batch
from linkwatch.db.text_index import TextIndexer, index_pending, queued
from tests.utils.migrations import sql_before
from tests.utils.store import make_page, pipeline, store_old_style


def found(conn: psycopg.Connection, text: str) -> list[int]:
    return sorted(r["id"] for r in search(conn, LinkFilters(text=text), "test"))


def copies(conn: psycopg.Connection) -> list[tuple[int, int, str]]:
    return conn.execute("SELECT sighting_id, link_id, context FROM sighting_texts ORDER BY 1").fetchall()


def originals(conn: psycopg.Connection) -> list[tuple[int, int, str]]:
    return conn.execute("SELECT id, link_id, context FROM sightings ORDER BY 1").fetchall()


def test_a_sighting_is_found_before_and_after_its_copy(db: str, seed) -> None:
    hit = seed.link("synthcopy1")
    miss = seed.link("synthcopy2")
    page = seed.page("http://forum.test/copy")
    seed.sighting(hit, page, context="텔레 방 합성 샘플 문맥")
    seed.sighting(miss, page, context="무관한 공지")
    with psycopg.connect(db, autocommit=True) as conn:
        assert queued(conn) == 2  # one range per INSERT statement, whoever inserts
        assert copies(conn) == []
        assert found(conn, "합성 샘플") == [hit]  # read from the queued range itself
        assert index_pending(conn) == 2
        assert queued(conn) == 0
        assert copies(conn) == originals(conn)
        assert found(conn, "합성 샘플") == [hit]  # now through the copy's trigram index
        assert index_pending(conn) == 0


def test_hand_edits_reach_the_copy(db: str, seed) -> None:
    link = seed.link("synthedit1")
    page = seed.page("http://forum.test/edit")
    sid = seed.sighting(link, page, context="예전 문맥")
    with psycopg.connect(db, autocommit=True) as conn:
        index_pending(conn)
        conn.execute("UPDATE sightings SET context = '고친 문맥' WHERE id = %s", (sid,))
        assert found(conn, "예전") == []  # the stale copy went with the update
        assert found(conn, "고친") == [link]  # the new text is queued, and searchable at once
        index_pending(conn)
        assert copies(conn) == originals(conn)

        conn.execute("DELETE FROM sightings WHERE id = %s", (sid,))
        assert copies(conn) == []
        assert found(conn, "고친") == []

        seed.sighting(link, page, context="다시 문맥")
        index_pending(conn)
        conn.execute("TRUNCATE sightings RESTART IDENTITY")
        assert copies(conn) == []
        assert queued(conn) == 0
        # Ids start again at 1: a stale copy under a reused id would make the search lie.
        seed.sighting(link, page, context="새 문맥")
        index_pending(conn)
        assert copies(conn) == originals(conn)
        assert found(conn, "다시") == []


def test_indexer_thread_fills_the_copy_behind_the_writer(db: str) -> None:
    indexer = TextIndexer(db)
    indexer.start()
    try:
        with psycopg.connect(db, autocommit=True) as conn:
            for first in range(0, 30, 10):
                store_batch(conn, [make_page(i, [i, i + 1]) for i in range(first, first + 10)], None)
                indexer.notify()
            assert indexer.wait_idle(30)
            assert queued(conn) == 0
            assert len(copies(conn)) == 60
            assert copies(conn) == originals(conn)
            assert indexer.failures == 0
    finally:
        indexer.close()


def test_indexer_waits_out_an_unreachable_server(db: str, unused_tcp_port: int) -> None:
    indexer = TextIndexer(f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/nothing")
    indexer.start()
    indexer.notify()
    assert indexer.wait_idle(30)  # it tried, failed and will retry: it does not raise or hang
    assert indexer.failures >= 1
    started = time.monotonic()
    indexer.close()
    assert time.monotonic() - started < 30


def test_crawl_pipeline_leaves_nothing_queued(db: str, tmp_path: Path) -> None:
    pipe, stats = pipeline(db, tmp_path, LINKWATCH_STORE_BATCH_SIZE=4)
    for i in range(25):
        pipe.process_item(make_page(i, [i, 100]))
    pipe.close_spider()
    assert stats.get_value("linkwatch/sightings_new") == 50
    with psycopg.connect(db, autocommit=True) as conn:
        assert queued(conn) == 0
        assert len(copies(conn)) == 50
        assert copies(conn) == originals(conn)


def test_migration_copies_existing_sightings(empty_db: str, tmp_path: Path) -> None:
    migrate(empty_db, sql_before(tmp_path, "0007"))
    with psycopg.connect(empty_db, autocommit=True) as conn:
        store_old_style(conn, [make_page(i, [i]) for i in range(5)])  # today's store needs 0011
    migrate(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert queued(conn) == 0
        assert copies(conn) == originals(conn)
        assert len(copies(conn)) == 5
        (link,) = found(conn, "문맥 3 3")
        assert conn.execute("SELECT code FROM links WHERE id = %s", (link,)).fetchone()[0] == "FAKE3"


