"""WARC evidence: capture → store → read back by page id, with the digest checked on every read."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from scrapy.utils.test import get_crawler

from linkwatch.db.store import store_batch
from linkwatch.db.warc import CaptureError, read_capture, read_page_capture, sha256_hex, write_response
from linkwatch.records import Page
from pipelines.capture import CapturePipeline

BODY = "<html><head><title>샘플 게시판</title></head><body>t.me/+FAKEinvite01 문의</body></html>".encode()


def captured(tmp_path: Path, body: bytes = BODY, url: str = "http://forum.test/t/1") -> Page:
    crawler = get_crawler(settings_dict={"LINKWATCH_DATA_DIR": str(tmp_path), "LINKWATCH_RUN_ID": 3})
    crawler.stats.open_spider()
    item = Page(
        url=url, fetched_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC), status=200,
        content_type="text/html; charset=utf-8", body=body,
        headers=(("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")),
    )
    return CapturePipeline.from_crawler(crawler).process_item(item)


def test_round_trip_by_page_id(db: str, tmp_path: Path) -> None:
    first = captured(tmp_path)
    second = captured(tmp_path, body=b"<p>other</p>", url="http://forum.test/t/2")
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [first, second], None)
        ids = dict(conn.execute("SELECT url, id FROM pages").fetchall())
        capture = read_page_capture(conn, tmp_path, ids["http://forum.test/t/1"])
        other = read_page_capture(conn, tmp_path, ids["http://forum.test/t/2"])
    assert capture.body == BODY
    assert capture.sha256 == sha256_hex(BODY)
    assert capture.status == 200
    assert capture.url == "http://forum.test/t/1"
    assert capture.fetched_at == "2026-11-02T09:30:00Z"
    # The body is stored decoded, so a Content-Encoding header would lie to WARC readers.
    assert ("Content-Type", "text/html; charset=utf-8") in capture.headers
    assert all(k.lower() != "content-encoding" for k, _ in capture.headers)
    assert other.body == b"<p>other</p>"


def test_same_bytes_same_version(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [captured(tmp_path)], None)
        store_batch(conn, [captured(tmp_path)], None)
        assert conn.execute("SELECT count(*) FROM pages").fetchone()[0] == 1


def test_tampered_capture_fails_the_digest(tmp_path: Path) -> None:
    path = tmp_path / "warc" / "t.warc.gz"
    offset, _, _ = write_response(path, "http://forum.test/x", 200, [], b"<p>original</p>")
    raw = gzip.decompress(path.read_bytes()).replace(b"original", b"ORIGINAL")
    path.write_bytes(gzip.compress(raw))
    with pytest.raises(CaptureError, match="fails its WARC payload digest"):
        read_capture(tmp_path, "warc/t.warc.gz", offset)


def test_wrong_page_digest_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "warc" / "t.warc.gz"
    offset, _, _ = write_response(path, "http://forum.test/x", 200, [], b"<p>a</p>")
    with pytest.raises(CaptureError, match="the page row says"):
        read_capture(tmp_path, "warc/t.warc.gz", offset, "0" * 64)


def test_missing_and_escaping_captures_are_clear_errors(db: str, tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="outside the data directory"):
        read_capture(tmp_path, "../../etc/passwd", 0)
    with pytest.raises(CaptureError, match="cannot be opened"):
        read_capture(tmp_path, "warc/none.warc.gz", 0)
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / "junk.warc.gz").write_bytes(b"not a warc file at all")
    with pytest.raises(CaptureError, match=r"unreadable|no WARC response"):
        read_capture(tmp_path, "warc/junk.warc.gz", 0)
    with psycopg.connect(db) as conn:
        with pytest.raises(CaptureError, match="no page with id 999"):
            read_page_capture(conn, tmp_path, 999)
        page = Page(url="http://forum.test/n", fetched_at=datetime.now(UTC), status=200,
                    content_type="text/html", body=None, sha256="1" * 64)
        store_batch(conn, [page], None)
        page_id = conn.execute("SELECT id FROM pages").fetchone()[0]
        with pytest.raises(CaptureError, match="has no capture"):
            read_page_capture(conn, tmp_path, page_id)


def capture_into(data_dir: Path, database_url: str, run_id: int, body: bytes) -> Page:
    crawler = get_crawler(settings_dict={"LINKWATCH_DATA_DIR": str(data_dir), "LINKWATCH_RUN_ID": run_id,
                                         "LINKWATCH_DATABASE_URL": database_url})
    crawler.stats.open_spider()
    item = Page(url="http://forum.test/t/1", fetched_at=datetime(2026, 11, 2, tzinfo=UTC), status=200,
                content_type="text/html", body=body)
    return CapturePipeline.from_crawler(crawler).process_item(item)


def test_two_databases_sharing_a_data_dir_never_share_a_capture_file(db: str, empty_db: str,
                                                                      tmp_path: Path) -> None:
    from linkwatch.db.warc import database_identity

    with psycopg.connect(db) as a, psycopg.connect(empty_db) as b:
        assert database_identity(a) != database_identity(b)
    # both databases' first run is run 1: before, both appended to warc/1.warc.gz
    mine = capture_into(tmp_path, db, 1, b"<p>database a</p>")
    theirs = capture_into(tmp_path, empty_db, 1, b"<p>database b</p>")
    assert mine.warc_file != theirs.warc_file
    assert read_capture(tmp_path, mine.warc_file, mine.warc_offset, mine.sha256).body == b"<p>database a</p>"
    assert read_capture(tmp_path, theirs.warc_file, theirs.warc_offset).body == b"<p>database b</p>"


def test_a_file_of_another_database_is_never_appended_to(db: str, tmp_path: Path) -> None:
    from linkwatch.db.warc import claim_file, database_identity

    with psycopg.connect(db) as conn:
        name = f"warc/{database_identity(conn)}/5.warc.gz"
    foreign = tmp_path / name
    claim_file(foreign, "another-database-7-42")  # what another database's crawl would have left
    before = foreign.read_bytes()
    with pytest.raises(CaptureError, match="belongs to database another-database-7-42, not this one"):
        claim_file(foreign, "this-database")
    item = capture_into(tmp_path, db, 5, b"<p>kept</p>")
    assert foreign.read_bytes() == before  # untouched
    assert item.warc_file != name  # this run's captures went to a file of its own
    assert read_capture(tmp_path, item.warc_file, item.warc_offset, item.sha256).body == b"<p>kept</p>"
