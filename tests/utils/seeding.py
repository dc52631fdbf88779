"""Synthetic rows (made-up codes) inserted straight into the test database, for query/review/report tests."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # a Monday, 12:00 in Seoul


class Seed:
    """Inserts synthetic rows (made-up codes) straight into the test database; one connection."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.n = 0

    def close(self) -> None:
        self.conn.close()

    def source(self, name: str) -> int:
        src = self.conn.execute(
            "INSERT INTO sources (name) VALUES (%s) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name "
            "RETURNING id", (name,)).fetchone()[0]
        return self.conn.execute("INSERT INTO crawl_runs (source_id, status) VALUES (%s, 'finished') "
                                 "RETURNING id", (src,)).fetchone()[0]

    def page(self, url: str, *, title: str = "게시판", run: int | None = None,
             at: datetime = T0) -> int:
        self.n += 1
        return self.conn.execute(
            "INSERT INTO pages (url, sha256, fetched_at, http_status, title, crawl_run_id) "
            "VALUES (%s, %s, %s, 200, %s, %s) RETURNING id",
            (url, f"{self.n:064x}", at, title, run)).fetchone()[0]

    def link(self, code: str, *, platform: str = "telegram", kind: str = "invite", score: float = 1.0,
             status: str = "new", first: datetime = T0, last: datetime | None = None,
             liveness: str = "unchecked", preview_title: str | None = None, category: str | None = None,
             member_count: int | None = None, url: str | None = None) -> int:
        return self.conn.execute(
            "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, score, status, "
            "liveness, preview_title, category, member_count, checked_at) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s, CASE WHEN %s <> 'unchecked' THEN %s END) "
            "RETURNING id",
            (platform, kind, code, url or f"https://t.me/+{code}", first, last or first, score, status,
             liveness, preview_title, category, member_count, liveness, last or first)).fetchone()[0]

    def sighting(self, link_id: int, page_id: int, *, at: datetime = T0, context: str = "",
                 raw: str | None = None, run: int | None = None) -> int:
        sid = self.conn.execute(
            "INSERT INTO sightings (link_id, page_id, crawl_run_id, seen_at, raw, context, post_key) "
            "VALUES (%s, %s, %s, %s, COALESCE(%s, (SELECT canonical_url FROM links WHERE id = %s)), %s, "
            "'seed:' || %s || ':' || %s) "
            "RETURNING id",
            (link_id, page_id, run, at, raw, link_id, context, page_id, context)).fetchone()[0]
        self.conn.execute(
            "UPDATE links SET sightings = sightings + 1, last_seen = greatest(last_seen, %s) WHERE id = %s",
            (at, link_id))
        return sid

    def check(self, link_id: int, result: str, at: datetime, title: str | None = None) -> None:
        self.conn.execute("INSERT INTO link_checks (link_id, checked_at, result, title) "
                          "VALUES (%s, %s, %s, %s)", (link_id, at, result, title))
        self.conn.execute("UPDATE links SET liveness = %s, checked_at = %s WHERE id = %s",
                          (result, at, link_id))
