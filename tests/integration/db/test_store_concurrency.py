"""Concurrent writers on overlapping data: no duplicates, no deadlocks, consistent sighting counts."""

from __future__ import annotations

import random
import threading

import psycopg

from linkwatch.db.store import store_batch
from linkwatch.db.text_index import TextIndexer
from tests.utils.store import counts, make_page

WRITERS = 4
BATCHES = 12
PAGES_PER_BATCH = 40
PAGE_POOL = 300
CODE_POOL = 250


def page_codes(i: int) -> list[int]:
    """Deterministic per page, so every writer stores the same version of page i."""
    return sorted({(i * 7 + k * 13) % CODE_POOL for k in range(12)})


def test_concurrent_writers_make_no_duplicates_and_no_deadlock(db: str) -> None:
    errors: list[BaseException] = []
    written: list[set[int]] = [set() for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    # As in concurrent crawls: each writer's own copier fills the context search copy behind it,
    # all four sharing the queue while their id ranges interleave.
    indexers = [TextIndexer(db) for _ in range(WRITERS)]
    for indexer in indexers:
        indexer.start()

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            with psycopg.connect(db, autocommit=True) as conn:
                start.wait()
                for _ in range(BATCHES):
                    ids = rng.sample(range(PAGE_POOL), PAGES_PER_BATCH)
                    if n % 2:
                        ids.sort(reverse=True)  # opposite orders are what deadlocks a naive writer
                    written[n].update(ids)
                    store_batch(conn, [make_page(i, page_codes(i)) for i in ids], None)
                    indexers[n].notify()
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert errors == []
    for indexer in indexers:
        assert indexer.wait_idle(60), "a copier hung"
        assert indexer.failures == 0  # no deadlock or error among the copiers either
        indexer.close()

    pages = set().union(*written)
    expected_links = {c for i in pages for c in page_codes(i)}
    expected_sightings = sum(len(page_codes(i)) for i in pages)
    with psycopg.connect(db) as conn:
        assert counts(conn) == {
            "pages": len(pages), "links": len(expected_links),
            "sightings": expected_sightings, "links_sightings_sum": expected_sightings,
        }
        dupes = conn.execute(
            "SELECT count(*) FROM (SELECT canonical_url FROM links GROUP BY 1 HAVING count(*) > 1) d"
        ).fetchone()[0]
        assert dupes == 0
        mismatched = conn.execute(
            "SELECT count(*) FROM links l WHERE l.sightings <> "
            "(SELECT count(*) FROM sightings s WHERE s.link_id = l.id)"
        ).fetchone()[0]
        assert mismatched == 0
        assert conn.execute("SELECT count(*) FROM sighting_text_queue").fetchone()[0] == 0
        copies = conn.execute("SELECT sighting_id, link_id, context FROM sighting_texts ORDER BY 1")
        copies = copies.fetchall()
        assert copies == conn.execute("SELECT id, link_id, context FROM sightings ORDER BY 1").fetchall()
