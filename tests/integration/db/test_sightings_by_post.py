"""Migration 0011 (sightings by post, page versions without volatile parts) on a database with old data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psycopg

from linkwatch.db.migrate import migrate
from linkwatch.db.store import store_batch
from tests.utils.migrations import sql_before
from tests.utils.store import T0, counts, make_page

MIGRATION = "0011_sightings_by_post"


def test_old_sightings_keep_their_counts_and_the_store_goes_on(empty_db: str, tmp_path: Path) -> None:
    migrate(empty_db, sql_before(tmp_path, "0011"))
    with psycopg.connect(empty_db, autocommit=True) as conn:
        # as the old store left them: one sighting per link and page version
        pages = [conn.execute(
            "INSERT INTO pages (url, sha256, fetched_at) VALUES ('http://forum.test/thread/1', %s, %s) "
            "RETURNING id", (digest, T0 + timedelta(hours=n))).fetchone()[0]
            for n, digest in enumerate(("a" * 64, "b" * 64))]
        link = conn.execute(
            "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, sightings) "
            "VALUES ('telegram', 'invite', 'FAKE1', 'https://t.me/+FAKE1', %s, %s, 2) RETURNING id",
            (T0, T0)).fetchone()[0]
        for page in pages:
            conn.execute("INSERT INTO sightings (link_id, page_id, seen_at, raw) VALUES (%s, %s, %s, 'x')",
                         (link, page, T0))

        queued = conn.execute("SELECT count(*) FROM sighting_text_queue").fetchone()[0]

    assert migrate(empty_db)[0] == MIGRATION  # and the later ones
    with psycopg.connect(empty_db, autocommit=True) as conn:
        keys = [r[0] for r in conn.execute("SELECT post_key FROM sightings ORDER BY page_id")]
        assert keys == [f"version:{p}" for p in pages]
        assert counts(conn) == {"pages": 2, "links": 1, "sightings": 2, "links_sightings_sum": 2}
        view = conn.execute("SELECT post_key FROM v_sightings ORDER BY page_id").fetchall()
        assert [r[0] for r in view] == keys
        # the backfill touched no context: the search copy was not queued again
        assert conn.execute("SELECT count(*) FROM sighting_text_queue").fetchone()[0] == queued
        # the store goes on from there: a post of the same link counts once, however often it is seen
        page = make_page(1, [1], when=T0 + timedelta(days=1))
        page = replace(page, version="c" * 64,
                       links=tuple(replace(li, post="post:forum.test/5") for li in page.links))
        assert store_batch(conn, [page], None).sightings_new == 1
        again = replace(page, sha256="d" * 64, fetched_at=T0 + timedelta(days=2))
        assert store_batch(conn, [again], None).sightings_new == 0
        assert counts(conn) == {"pages": 3, "links": 1, "sightings": 3, "links_sightings_sum": 3}
