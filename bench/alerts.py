"""Alerts benchmark: what enqueueing costs the store, and how soon an alert reaches a webhook.

    .venv/bin/python -m bench.alerts [--database-url URL] [--pages 1000] [--links 20] [--runs 5]
                                     [--alerts 200]

Creates a throwaway database on the server (LINKWATCH_DATABASE_URL, --database-url, or the embedded
server) and migrates it. Then:

1. the batched store on identical synthetic pages (made-up codes, a quarter of the links scoring 0.9)
   with alerts off, with two targets and a threshold of 0.5 (a quarter of the new links alerted), and
   with two targets and a threshold no link reaches (the cost of looking), rotating, median of the runs;
2. `--alerts` batches of one page with one new high-scoring link, stored one after another while the
   crawl's sender thread (LISTEN/NOTIFY) runs against a webhook receiver on 127.0.0.1: the time from
   store_batch() returning (the commit) to the receiver holding the POST, median, 95th percentile, max.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from bench.ingest import synthetic_pages
from linkwatch.alerts.targets import AlertSettings, StorePolicy, webhook_target
from linkwatch.config import load_config
from linkwatch.db import database_url
from linkwatch.db.migrate import migrate
from linkwatch.db.store import store_batch
from linkwatch.jobs.alert_sender import AlertSender
from linkwatch.records import FoundLink, Page
from pipelines.store import DEFAULT_BATCH_SIZE
from tests.utils.webhook import WebhookReceiver

TABLES = "alert_outbox, pages, links, sightings, sighting_texts, sighting_text_queue"
UA = "linkwatch-bench/1 (+ops@example.invalid)"


def scored(pages: list[Page]) -> list[Page]:
    """The benchmark pages with a quarter of the link codes scoring 0.9 (the rest 0.4)."""
    return [replace(page, links=tuple(replace(link, score=0.9 if int(link.code[5:]) % 4 == 0 else 0.4)
                                      for link in page.links)) for page in pages]


def store_all(url: str, pages: list[Page], batch: int, policy: StorePolicy | None) -> tuple[float, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        began = time.perf_counter()
        alerts = 0
        for i in range(0, len(pages), batch):
            alerts += store_batch(conn, pages[i:i + batch], None, alerts=policy).alerts
        return time.perf_counter() - began, alerts


def latency(url: str, n: int) -> list[float]:
    out = []
    with WebhookReceiver(path="/hook/bench-token") as receiver:
        target = webhook_target(receiver.url)
        settings = AlertSettings(score=0.5, targets=(target,), timeout=10, attempts=3, retry_seconds=1)
        policy = StorePolicy(0.5, ((target.key, target.label),))
        sender = AlertSender(url, settings, UA).start()
        t0 = datetime(2026, 12, 1, tzinfo=UTC)
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                for i in range(n):
                    code = f"BenchAlert{i:05d}"
                    link = FoundLink(platform="telegram", kind="invite", code=code,
                                     url=f"https://t.me/+{code}", raw=f"t.me/+{code}", obfuscated=False,
                                     where="text", context="synthetic", score=0.9)
                    page = Page(url=f"http://bench.test/alert/{i}", fetched_at=t0 + timedelta(seconds=i),
                                status=200, content_type="text/html", body=None, title="bench",
                                sha256=f"{i:064x}", links=(link,))
                    store_batch(conn, [page], None, alerts=policy)
                    committed = time.perf_counter()
                    out.append(receiver.wait_for_code(code) - committed)
        finally:
            sender.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="server to create the throwaway database on")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--links", type=int, default=20, help="links per page")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--alerts", type=int, default=200, help="alerts timed from commit to webhook")
    args = parser.parse_args()
    admin = args.database_url or database_url(load_config())
    name = f"lw_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    try:
        migrate(url)
        pages = scored(synthetic_pages(args.pages, args.links))
        policy = StorePolicy(0.5, (("webhook:bench1", "https://a.example.invalid/…"),
                                   ("email:bench2", "mail to a@example.invalid")))
        # on: a quarter of the new links at or above the threshold; quiet: the same targets, none above it
        quiet = StorePolicy(1.0, policy.targets)
        variants = [("alerts off", None), ("on", policy), ("on, quiet", quiet)]
        times: dict[str, list[float]] = {label: [] for label, _ in variants}
        enqueued: dict[str, int] = {}
        for run in range(args.runs):
            for label, p in variants[run % 3:] + variants[:run % 3]:  # rotate: no variant always first
                elapsed, alerts = store_all(url, pages, DEFAULT_BATCH_SIZE, p)
                enqueued[label] = alerts
                times[label].append(elapsed)
                print(f"run {run + 1}: {label:<10} {elapsed:6.2f} s ({alerts} alerts enqueued)")
        off = statistics.median(times["alerts off"])
        print(f"\nstore, {args.pages} pages x {args.links} links in batches of {DEFAULT_BATCH_SIZE}, "
              f"median of {args.runs} runs on {os.cpu_count()} cores (load {os.getloadavg()[0]:.1f}):")
        print(f"  alerts off: {off:.2f} s")
        for label in ("on", "on, quiet"):
            median = statistics.median(times[label])
            print(f"  two targets, {label:<9}: {median:.2f} s ({enqueued[label]} alerts) "
                  f"{100 * (median - off) / off:+.1f}%")
        lat = sorted(latency(url, args.alerts))
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(f"commit -> webhook, {len(lat)} alerts one after another: "
              f"median {1000 * statistics.median(lat):.1f} ms, p95 {1000 * p95:.1f} ms, "
              f"max {1000 * lat[-1]:.1f} ms")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
