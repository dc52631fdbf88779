"""store_batch(): a batch of pages, links and sightings in one idempotent, deadlock-free transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import psycopg

from linkwatch.alerts.targets import StorePolicy
from linkwatch.db import alerts as outbox
from linkwatch.db.sql import query
from linkwatch.posts import fallback_key
from linkwatch.records import Page

PAGE_COLUMNS = (
    "ord", "url", "sha256", "version", "fetched_at", "http_status", "content_type", "title", "rendered",
    "bytes", "warc_file", "warc_offset", "warc_length",
)
SIGHTING_COLUMNS = (
    "page_ord", "platform", "kind", "code", "canonical_url", "raw", "obfuscated", "found_in",
    "context", "score", "post_key",
)

# What store_batch() reports to on_step, in order: temp tables and COPY, the four statements, COMMIT.
STORE_STEPS = ("stage", "upsert_pages", "page_ids", "upsert_links", "insert_sightings", "commit")


@dataclass
class StoreResult:
    """What one store_batch() call wrote."""

    pages: int = 0
    links_found: int = 0
    links_new: int = 0
    sightings_new: int = 0
    alerts: int = 0

    def __iadd__(self, other: StoreResult) -> StoreResult:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


def store_batch(
    conn: psycopg.Connection,
    pages: list[Page],
    run_id: int | None,
    on_step: Callable[[str], None] | None = None,
    alerts: StorePolicy | None = None,
) -> StoreResult:
    """Writes `pages` and their links/sightings in one transaction; safe to repeat (idempotent).

    COPY into temporary staging tables, then set-based `INSERT … SELECT … ON CONFLICT` for pages,
    links and sightings, each sorted by its unique key so concurrent writers lock rows in the same
    order. A sighting is a link in a post (FoundLink.post), a page version is its body without
    volatile parts (Page.version). Repeating a batch changes nothing but links.last_seen.
    `on_step(name)` is called after each step (the names in STORE_STEPS), for bench.ingest --profile.
    With `alerts`, the batch's new links at or above the threshold are enqueued in the alert outbox
    in the same transaction.
    """
    result = StoreResult(pages=len(pages))
    if not pages:
        return result
    params = {"run_id": run_id}
    step = on_step or (lambda _name: None)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query("store", "stage"))
        with cur.copy(f"COPY lw_stage_pages ({', '.join(PAGE_COLUMNS)}) FROM STDIN") as copy:
            for ord_, p in enumerate(pages):
                copy.write_row((
                    ord_, p.url, p.sha256, p.version or None, p.fetched_at, p.status, p.content_type,
                    p.title, bool(p.rendered), p.size, p.warc_file, p.warc_offset, p.warc_length,
                ))
        with cur.copy(f"COPY lw_stage_sightings ({', '.join(SIGHTING_COLUMNS)}) FROM STDIN") as copy:
            for ord_, p in enumerate(pages):
                for link in p.links:
                    copy.write_row((
                        ord_, link.platform, link.kind, link.code, link.url, link.raw or link.url,
                        link.obfuscated, link.where, link.context, link.score,
                        link.post or fallback_key(p.url, link.context),  # journaled before posts were known
                    ))
        outbox.stage_new_links(cur, alerts)  # alerts: which links are new, before they are stored
        step("stage")
        cur.execute(query("store", "upsert_pages"), params)
        step("upsert_pages")
        cur.execute(query("store", "page_ids"))
        step("page_ids")
        cur.execute(query("store", "upsert_links"))
        result.links_found, result.links_new = cur.fetchone()
        step("upsert_links")
        cur.execute(query("store", "insert_sightings"), params)
        result.sightings_new = cur.fetchone()[0]
        step("insert_sightings")
        result.alerts = outbox.enqueue(cur, alerts, run_id)
    step("commit")
    return result
