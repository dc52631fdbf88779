"""Outages for real: a connection killed mid-batch, a server stopped mid-crawl, a full disk lose nothing,
and a store that cannot keep pages says so instead of going quiet."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
from click.testing import CliRunner
from scrapy.utils.test import get_crawler

from linkwatch.cli import main
from linkwatch.db.journal import journals, read_journal
from linkwatch.db.spill import pending_spills
from linkwatch.db.writer import Writer
from pipelines.store import StorePipeline
from tests.utils.store import counts, make_page
from tests.utils.waiting import wait_for


def open_pipeline(url: str, data_dir: Path, **settings: object) -> tuple[StorePipeline, object]:
    crawler = get_crawler(settings_dict={
        "LINKWATCH_DATABASE_URL": url, "LINKWATCH_DATA_DIR": str(data_dir),
        "LINKWATCH_STORE_BATCH_SIZE": 3, "LINKWATCH_STORE_FLUSH_SECONDS": 0.2,
        "LINKWATCH_STORE_CLOSE_SECONDS": 2, **settings,
    })
    crawler.stats.open_spider()
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    return pipe, crawler.stats


def test_connection_killed_mid_batch_is_kept_and_written_again(db: str, tmp_path: Path) -> None:
    writer = Writer(db, tmp_path, None)
    assert writer.write([make_page(i, [i, i + 1]) for i in range(5)]) is not None
    backend = writer.conn.info.backend_pid

    batch = [make_page(i, [i, i + 1]) for i in range(5, 15)]
    with psycopg.connect(db) as blocker:
        # Hold the links table so the writer stops inside its transaction, after the pages insert.
        blocker.execute("LOCK TABLE links IN SHARE ROW EXCLUSIVE MODE")
        outcome: list[object] = []
        thread = threading.Thread(target=lambda: outcome.append(writer.write(batch)))
        thread.start()
        with psycopg.connect(db, autocommit=True) as admin:
            wait_for(lambda: admin.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (backend,)
            ).fetchone()[0] == "Lock")
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        blocker.rollback()
        thread.join(timeout=30)
    assert outcome == [None]  # "not stored, keep it": no exception, nothing spilled
    assert pending_spills(tmp_path) == []
    with psycopg.connect(db) as conn:
        assert counts(conn)["pages"] == 5  # the killed transaction left nothing half-written
    assert writer.write(batch, force_connect=True) is not None  # the same batch, again
    with psycopg.connect(db) as conn:
        assert counts(conn) == {"pages": 15, "links": 16, "sightings": 30, "links_sightings_sum": 30}
    writer.close()


def test_server_down_mid_crawl_loses_nothing(throwaway_server, tmp_path: Path) -> None:
    pipe, stats = open_pipeline(throwaway_server.url, tmp_path)
    for i in range(3):
        pipe.process_item(make_page(i, [i, 99]))
    wait_for(lambda: stats.get_value("linkwatch/batches") == 1)

    throwaway_server.stop()
    for i in range(3, 12):  # three batches' worth while PostgreSQL is down: the crawl carries on
        assert pipe.process_item(make_page(i, [i, 99])).url.endswith(f"/{i}")
    # Every page is on disk in the journal while the server is away.
    wait_for(lambda: pipe.journal.durable >= pipe.journal.last)
    assert len(read_journal(pipe.journal.directory).unstored()) == 9

    throwaway_server.start()
    pipe.process_item(make_page(12, [12, 99]))
    pipe.close_spider()
    assert stats.get_value("linkwatch/unstored_pages") is None
    assert stats.get_value("linkwatch/lost_pages") is None
    with psycopg.connect(throwaway_server.url) as conn:
        assert counts(conn) == {"pages": 13, "links": 14, "sightings": 26, "links_sightings_sum": 26}
    assert read_journal(pipe.journal.directory).unstored() == []


def test_server_away_at_the_end_then_db_replay_stores_it(throwaway_server, tmp_path: Path) -> None:
    throwaway_server.stop()
    pipe, stats = open_pipeline(throwaway_server.url, tmp_path)  # warns, does not raise
    for i in range(4):
        pipe.process_item(make_page(i, [i]))
    pipe.close_spider()  # tries for LINKWATCH_STORE_CLOSE_SECONDS, then leaves them in the journal
    assert stats.get_value("linkwatch/unstored_pages") == 4
    assert stats.get_value("linkwatch/lost_pages") is None
    (journal,) = journals(tmp_path)

    throwaway_server.start()
    result = CliRunner().invoke(main, ["--database-url", throwaway_server.url, "db", "replay"],
                                env={"LINKWATCH_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "4 pages" in result.output
    with psycopg.connect(throwaway_server.url) as conn:
        assert counts(conn)["pages"] == 4
    assert not journal.exists()  # stored, nothing left to resume: removed
    again = CliRunner().invoke(main, ["--database-url", throwaway_server.url, "db", "replay"],
                               env={"LINKWATCH_DATA_DIR": str(tmp_path)})
    assert "nothing waited to be stored" in again.output


def test_a_full_disk_and_no_database_stop_the_crawl_and_say_what_was_not_stored(
        throwaway_server, tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal" / "crawl" / "0"
    journal_dir.mkdir(parents=True)
    (journal_dir / "000001.jsonl").symlink_to("/dev/full")  # every write: No space left on device
    throwaway_server.stop()
    pipe, stats = open_pipeline(throwaway_server.url, tmp_path, LINKWATCH_STORE_MEMORY_PAGES=5,
                                LINKWATCH_STORE_BATCH_SIZE=2, LINKWATCH_JOURNAL_DIR=str(journal_dir))
    for i in range(8):  # never blocks, whatever the store's state
        pipe.process_item(make_page(i, [i]))
    assert stats.get_value("linkwatch/storage_failed") == 1  # asked the engine to stop the crawl
    pipe.close_spider()
    message = stats.get_value("linkwatch/storage_error")
    assert "PostgreSQL is unreachable" in message
    assert "No space left on device" in message
    assert stats.get_value("linkwatch/lost_pages") == 8
    assert stats.get_value("linkwatch/lost_links") == 8


def test_a_full_disk_alone_loses_nothing(db: str, tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal" / "crawl" / "0"
    journal_dir.mkdir(parents=True)
    (journal_dir / "000001.jsonl").symlink_to("/dev/full")
    pipe, stats = open_pipeline(db, tmp_path, LINKWATCH_STORE_MEMORY_PAGES=5, LINKWATCH_STORE_BATCH_SIZE=2,
                                LINKWATCH_JOURNAL_DIR=str(journal_dir))
    for i in range(20):
        pipe.process_item(make_page(i, [i]))
    pipe.close_spider()
    assert "No space left on device" in pipe.journal.error  # the journal was refused, PostgreSQL was not
    assert stats.get_value("linkwatch/lost_pages") is None
    assert stats.get_value("linkwatch/storage_failed") is None
    with psycopg.connect(db) as conn:
        assert counts(conn)["pages"] == 20
