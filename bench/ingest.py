"""Ingest benchmark: sightings/s through the batched store vs row-by-row INSERTs, same data, same run.

    .venv/bin/python -m bench.ingest [--database-url URL] [--pages 1000] [--links 20] [--runs 5] [--profile]

Creates a throwaway database on the server (LINKWATCH_DATABASE_URL, --database-url, or the embedded
server), migrates it, times both writers on identical synthetic pages (made-up invite codes; about half
of each run's links were already stored by earlier pages), and prints the median of the runs.
Both writers record a crawl run id (its foreign key is checked per row, as in a crawl), and each
timed run ends by merging the GIN pending lists, so index work deferred by `fastupdate` is counted.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from linkwatch.config import load_config
from linkwatch.db import database_url
from linkwatch.db.migrate import migrate
from linkwatch.db.store import STORE_STEPS, store_batch
from linkwatch.db.text_index import TextIndexer, index_pending, queued
from linkwatch.posts import fallback_key
from linkwatch.records import FoundLink, Page
from pipelines.store import DEFAULT_BATCH_SIZE

# The search copy is named too: emptied by the TRUNCATE, not row by row by the sightings trigger.
TABLES = "pages, links, sightings, sighting_texts, sighting_text_queue"
# GIN inserts go to a pending list (fastupdate) merged later by a big insert, VACUUM or this call;
# merging inside the timing charges each run for all of its own index work.
CLEAN_GIN = (
    "SELECT gin_clean_pending_list(c.oid) FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
    "WHERE a.amname = 'gin' AND c.relkind = 'i' AND c.relnamespace = 'public'::regnamespace"
)


def synthetic_pages(n_pages: int, links_per_page: int) -> list[Page]:
    """Forum-like pages: each link code reappears on a few pages, so upserts hit existing rows."""
    pool = max(1, n_pages * links_per_page // 4)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    pages = []
    for i in range(n_pages):
        links = []
        for j in range(links_per_page):
            code = f"BENCH{(i * 7919 + j * 104729) % pool:07d}"
            links.append(FoundLink(
                platform="telegram", kind="invite", code=code, url=f"https://t.me/+{code}",
                raw=f"t.me/+{code}", obfuscated=False, where="href",
                context=f"게시글 {i} 링크 {j} 입장 문의 텔레 방 샘플 문맥 " * 3, score=0.4,
                post=f"post:bench.test/{i * links_per_page + j}",  # as the spider keys them (issue #16)
            ))
        pages.append(Page(
            url=f"http://bench.test/thread/{i}", fetched_at=t0 + timedelta(seconds=i), status=200,
            content_type="text/html", body=None, title=f"벤치 스레드 {i}", sha256=f"{i:064x}",
            warc_file="warc/bench.warc.gz", warc_offset=i * 1000, warc_length=1000, links=tuple(links),
        ))
    return pages


def store_row_by_row(conn: psycopg.Connection, pages: list[Page], run_id: int | None) -> int:
    """The baseline: the same upserts as store_batch, one INSERT per page, link and sighting."""
    inserted = 0
    with conn.transaction():
        for p in pages:
            conn.execute(
                "INSERT INTO pages (url, sha256, fetched_at, http_status, content_type, title, rendered, "
                "crawl_run_id, warc_file, warc_offset, warc_length) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (p.url, p.sha256, p.fetched_at, p.status, p.content_type, p.title, p.rendered, run_id,
                 p.warc_file, p.warc_offset, p.warc_length),
            )
            page_id = conn.execute(
                "SELECT id FROM pages WHERE url = %s AND sha256 = %s", (p.url, p.sha256)
            ).fetchone()[0]
            for link in p.links:
                link_id = conn.execute(
                    "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, score) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (canonical_url) DO UPDATE SET "
                    "first_seen = least(links.first_seen, excluded.first_seen), "
                    "last_seen = greatest(links.last_seen, excluded.last_seen), "
                    "score = greatest(links.score, excluded.score) RETURNING id",
                    (link.platform, link.kind, link.code, link.url, p.fetched_at, p.fetched_at, link.score),
                ).fetchone()[0]
                row = conn.execute(
                    "INSERT INTO sightings (link_id, page_id, crawl_run_id, seen_at, raw, obfuscated, "
                    "found_in, context, score, post_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (link_id, post_key) DO NOTHING RETURNING 1",
                    (link_id, page_id, run_id, p.fetched_at, link.raw, link.obfuscated, link.where,
                     link.context, link.score, link.post or fallback_key(p.url, link.context)),
                ).fetchone()
                if row:
                    conn.execute("UPDATE links SET sightings = sightings + 1 WHERE id = %s", (link_id,))
                    inserted += 1
    return inserted


def backend_cpu(pid: int) -> float | None:
    """CPU seconds used so far by a local PostgreSQL backend (Linux /proc), None if not readable."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def crawl_run(url: str) -> int:
    """A sources row and a crawl_runs row for the writers to record, as a crawl does."""
    with psycopg.connect(url, autocommit=True) as conn:
        source = conn.execute("INSERT INTO sources (name) VALUES ('bench') RETURNING id").fetchone()[0]
        return conn.execute(
            "INSERT INTO crawl_runs (source_id, trigger) VALUES (%s, 'bench') RETURNING id", (source,)
        ).fetchone()[0]


class StepClock:
    """Server CPU and wall seconds per store_batch step (--profile), summed over the batches."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.server: dict[str, float] = dict.fromkeys((*STORE_STEPS, "text copy wait", "gin merge"), 0.0)
        self.wall: dict[str, float] = dict.fromkeys(self.server, 0.0)
        self.start()

    def start(self) -> None:
        self._server, self._wall = backend_cpu(self.pid) or 0.0, time.perf_counter()

    def __call__(self, step: str) -> None:
        server, wall = backend_cpu(self.pid) or 0.0, time.perf_counter()
        self.server[step] += server - self._server
        self.wall[step] += wall - self._wall
        self._server, self._wall = server, wall


def run_once(
    url: str, pages: list[Page], batch_size: int, batched: bool, run_id: int,
    profile: dict[str, list[tuple[float, float]]] | None = None,
) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process plus its backend, sightings stored)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        conn.execute(f"VACUUM ANALYZE {TABLES}")
        pid = conn.info.backend_pid
        clock = StepClock(pid) if profile is not None and batched else None
        sightings = 0
        # As in a crawl, the batched store's context search copy is filled by a second connection
        # just behind the writer; the row-by-row baseline fills it after each chunk, on its own.
        indexer = TextIndexer(url) if batched else None
        if indexer is not None:
            indexer.start()
            indexer.notify()
            indexer.wait_idle()  # connected before the clock starts, as the store is
        cpu0, server0 = time.process_time(), backend_cpu(pid)
        index0 = backend_cpu(indexer.conn.info.backend_pid) if indexer and indexer.conn else None
        start = time.perf_counter()
        for i in range(0, len(pages), batch_size):
            chunk = pages[i : i + batch_size]
            if batched:
                if clock is not None:
                    clock.start()
                sightings += store_batch(conn, chunk, run_id, on_step=clock).sightings_new
                indexer.notify()
            else:
                sightings += store_row_by_row(conn, chunk, run_id)
                index_pending(conn)
        if clock is not None:
            clock.start()
        if indexer is not None:
            indexer.wait_idle()
            if clock is not None:
                clock("text copy wait")
        conn.execute(CLEAN_GIN)
        elapsed = time.perf_counter() - start
        if clock is not None:
            clock("gin merge")
        server1 = backend_cpu(pid)
        cpu = time.process_time() - cpu0
        if server0 is not None and server1 is not None:
            cpu += server1 - server0
        if indexer is not None:
            index1 = backend_cpu(indexer.conn.info.backend_pid) if indexer.conn else None
            indexer.close()
            if index0 is not None and index1 is not None:
                cpu += index1 - index0
                if profile is not None:
                    profile.setdefault("text copy (2nd connection)", []).append((index1 - index0, 0.0))
        if clock is not None:
            for step, seconds in clock.server.items():
                profile.setdefault(step, []).append((seconds, clock.wall[step]))
        if queued(conn):
            raise SystemExit("the context search copy was left behind: sighting ranges still queued")
        copies = conn.execute("SELECT count(*) FROM sighting_texts").fetchone()[0]
        if copies != sightings:
            raise SystemExit(f"{copies} context copies for {sightings} sightings")
    return elapsed, cpu, sightings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="server to create the throwaway database on")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--links", type=int, default=20, help="links per page")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help="pages per batch (both writers)")
    parser.add_argument("--no-context-index", action="store_true",
                        help="diagnostic: drop the trigram index on the context search copy to see its cost")
    parser.add_argument("--batched-only", action="store_true", help="diagnostic: skip the baseline")
    parser.add_argument("--profile", action="store_true",
                        help="also print the batched store's server CPU and wall time per step")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    admin = args.database_url or database_url(load_config())
    name = f"lw_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    try:
        migrate(url)
        if args.no_context_index:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DROP INDEX sighting_texts_context_trgm")
            print("diagnostic run: the context search copy (sighting_texts) has NO trigram index")
        run_id = crawl_run(url)
        pages = synthetic_pages(args.pages, args.links)
        profile: dict[str, list[tuple[float, float]]] | None = {} if args.profile else None
        results: dict[str, list[float]] = {"batched": [], "row-by-row": []}
        per_cpu: dict[str, list[float]] = {"batched": [], "row-by-row": []}
        expected = None
        for run in range(args.runs):
            # Alternate the order so neither writer always runs on a warmer cache.
            order = [("batched", True)] if args.batched_only else [("batched", True), ("row-by-row", False)]
            for label, batched in order if run % 2 == 0 else order[::-1]:
                elapsed, cpu, sightings = run_once(url, pages, args.batch_size, batched, run_id, profile)
                expected = expected or sightings
                if sightings != expected:
                    raise SystemExit(f"{label} stored {sightings} sightings, expected {expected}")
                results[label].append(sightings / elapsed)
                per_cpu[label].append(sightings / cpu)
                print(f"run {run + 1}: {label:<10} {sightings:>7} sightings in {elapsed:6.2f} s "
                      f"= {sightings / elapsed:>9,.0f}/s  ({sightings / cpu:>9,.0f} per CPU-second)")
        fast = statistics.median(results["batched"])
        print()
        print(f"{args.pages} pages x {args.links} links, batches of {args.batch_size} pages, "
              f"median of {args.runs} runs (load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores)")
        print("  (per CPU-second: sightings per second of CPU used by the writer, its PostgreSQL backend")
        print("   and the search copy's backend together; not distorted by a busy machine)")
        print(f"  batched store (COPY + INSERT ... SELECT ... ON CONFLICT): {fast:>9,.0f} sightings/s, "
              f"{statistics.median(per_cpu['batched']):>9,.0f} per CPU-second")
        if results["row-by-row"]:
            slow = statistics.median(results["row-by-row"])
            print(f"  row-by-row INSERT ... ON CONFLICT (baseline)            : {slow:>9,.0f} sightings/s, "
                  f"{statistics.median(per_cpu['row-by-row']):>9,.0f} per CPU-second")
            print(f"  speed-up: {fast / slow:.1f}x wall clock, "
                  f"{statistics.median(per_cpu['batched']) / statistics.median(per_cpu['row-by-row']):.1f}x "
                  "per CPU-second")
        if profile:
            print(f"  batched store per step, median over runs ({expected} sightings a run):")
            for step, samples in profile.items():
                server = statistics.median(s for s, _ in samples)
                wall = statistics.median(w for _, w in samples)
                per = server / expected * 1e6
                print(f"    {step:<17} server CPU {server:6.3f} s ({per:5.1f} us/sighting), "
                      f"wall {wall:6.3f} s")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
