"""Synthetic pages (made-up codes) and the counts a store test checks, shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from scrapy.utils.test import get_crawler

from linkwatch.records import FoundLink, Page
from pipelines.store import StorePipeline

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_page(i: int, codes: list[int], *, when: datetime = T0, score: float = 0.5) -> Page:
    """A synthetic page `i` advertising made-up invite codes FAKE<n>."""
    return Page(
        url=f"http://forum.test/thread/{i}", fetched_at=when, status=200, content_type="text/html",
        body=None, title=f"스레드 {i}", sha256=f"{i:064x}", warc_file="warc/1.warc.gz", warc_offset=i,
        warc_length=10, key=f"http://forum.test/thread/{i}",
        links=tuple(
            FoundLink(platform="telegram", kind="invite", code=f"FAKE{c}", url=f"https://t.me/+FAKE{c}",
                      raw=f"t.me/+FAKE{c}", obfuscated=c % 2 == 0, where="href", context=f"문맥 {i} {c}",
                      score=score)
            for c in codes
        ),
    )


def counts(conn: psycopg.Connection) -> dict[str, Any]:
    # Sightings have no foreign keys (migration 0006): every count also proves none is orphaned.
    orphans = conn.execute(
        "SELECT count(*) FROM sightings s WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.id = s.link_id) "
        "OR NOT EXISTS (SELECT 1 FROM pages p WHERE p.id = s.page_id)"
    ).fetchone()[0]
    assert orphans == 0, f"{orphans} sighting(s) without their link or page"
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM links), "
        "(SELECT count(*) FROM sightings), (SELECT coalesce(sum(sightings), 0) FROM links)"
    ).fetchone()
    return dict(zip(("pages", "links", "sightings", "links_sightings_sum"), row, strict=True))


def snapshot(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT l.canonical_url, l.first_seen, l.last_seen, l.sightings, l.score, "
        "array_agg(s.page_id || ':' || s.score ORDER BY s.page_id) "
        "FROM links l JOIN sightings s ON s.link_id = l.id GROUP BY l.id ORDER BY l.canonical_url"
    ).fetchall()


def pipeline(db: str, data_dir: Path, **settings: Any) -> tuple[StorePipeline, Any]:
    crawler = get_crawler(settings_dict={
        "LINKWATCH_DATABASE_URL": db, "LINKWATCH_DATA_DIR": str(data_dir), **settings,
    })
    crawler.stats.open_spider()
    pipe = StorePipeline.from_crawler(crawler)
    pipe.open_spider()
    return pipe, crawler.stats


def store_old_style(conn: psycopg.Connection, pages: list[Page]) -> None:
    """Stores pages as the store did before migration 0011 (one sighting per link and page version),
    for tests of a database an older linkwatch left."""
    for p in pages:
        page_id = conn.execute(
            "INSERT INTO pages (url, sha256, fetched_at) VALUES (%s, %s, %s) RETURNING id",
            (p.url, p.sha256, p.fetched_at)).fetchone()[0]
        for link in p.links:
            link_id = conn.execute(
                "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, sightings) "
                "VALUES (%s, %s, %s, %s, %s, %s, 1) ON CONFLICT (canonical_url) DO UPDATE "
                "SET sightings = links.sightings + 1 RETURNING id",
                (link.platform, link.kind, link.code, link.url, p.fetched_at, p.fetched_at)).fetchone()[0]
            conn.execute(
                "INSERT INTO sightings (link_id, page_id, seen_at, raw, context) VALUES (%s, %s, %s, %s, %s)",
                (link_id, page_id, p.fetched_at, link.raw, link.context))
