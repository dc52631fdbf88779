"""Liveness-check benchmark: checks per second against the local fake previews, rate limits off.

    .venv/bin/python -m bench.check [--links 300] [--runs 5] [--concurrency 16] [--latency-ms 0,50]

The fake (tests/fakes/previews.py) runs in its own process on 127.0.0.1. Each run empties the links
of a dedicated database (LINKWATCH_BENCH_DATABASE_URL's server, database `linkwatch_bench_check`; else
the embedded server), inserts synthetic links (Telegram, Discord, WhatsApp, Kakao, LINE; live and dead),
and times `linkwatch.jobs.check.check_links` end to end (HTTP, parsing, recording). The baseline in the
same run is the naive loop: one link after the other, a blocking GET, parse, one commit per check.
Figures are medians of --runs runs, once per --latency-ms value (a delay the fake adds to every answer:
0 measures linkwatch's own overhead, 50 models a remote server's round trip).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from linkwatch.config import load_config
from linkwatch.db.migrate import migrate
from linkwatch.db.sql import query
from linkwatch.jobs import check as liveness
from linkwatch.previews import Bases, parse_response, target_for
from linkwatch.previews.policy import Policy

REPO_ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "linkwatch_bench_check"
KINDS = [("telegram", "invite", "https://t.me/+"), ("discord", "invite", "https://discord.gg/"),
         ("whatsapp", "invite", "https://chat.whatsapp.com/"), ("kakao", "invite", "https://open.kakao.com/o/"),
         ("line", "invite", "https://line.me/R/ti/g/")]


def bench_url() -> str:
    """The benchmark database (created if missing, migrated)."""
    config = load_config()
    base = config.bench_database_url
    if not base:
        from linkwatch.db import database_url

        base = database_url(config)
    url = psycopg.conninfo.make_conninfo(base, dbname=DB_NAME)
    server = psycopg.conninfo.make_conninfo(base, dbname="postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    migrate(url)
    return url


def seed(url: str, n: int) -> list[liveness.LinkRow]:
    """n synthetic links, 80% live / 20% dead, spread over the platforms."""
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        platform, kind, prefix = KINDS[i % len(KINDS)]
        code = f"{'dead' if i % 5 == 4 else 'live'}Bench{i:06d}"
        rows.append((platform, kind, code, prefix + code, now, now))
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE links, sightings, link_checks RESTART IDENTITY CASCADE")
        with conn.cursor().copy(
            "COPY links (platform, kind, code, canonical_url, first_seen, last_seen) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return liveness.claim_due(conn)


def naive(url: str, links: list[liveness.LinkRow], bases: Bases) -> float:
    """The baseline: sequential blocking GET, parse and commit per link; returns seconds."""
    started = time.perf_counter()
    policy = Policy()
    with psycopg.connect(url) as conn, httpx.Client(timeout=10, trust_env=False) as client:
        for link in links:
            target = target_for(link.platform, link.kind, link.code, bases)
            resp = client.get(target.url)
            preview = parse_response(target, resp.status_code, resp.text)
            now = datetime.now(UTC)
            conn.execute(query("liveness", "record"), {
                "link_id": link.id, "checked_at": now, "result": preview.result,
                "http_status": preview.http_status, "title": preview.title,
                "description": preview.description, "member_count": preview.member_count,
                "detail": preview.detail, "next_check_at": policy.next_check(preview.result, now),
            })
            conn.commit()
    return time.perf_counter() - started


def scenario(args: argparse.Namespace, url: str, latency_ms: float) -> tuple[float, float]:
    """Median checks/s of check_links and of the naive loop with the fake answering after latency_ms."""
    fake = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "tests" / "utils" / "previews.py"), str(latency_ms / 1000)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        base = fake.stdout.readline().strip()
        bases = Bases(f"{base}/tg", f"{base}/discord/api/v10", f"{base}/wa", f"{base}/kakao",
                      f"{base}/line")
        settings = liveness.CheckSettings(bases=bases, rate=0, concurrency=args.concurrency, timeout=10)
        ours, theirs = [], []
        for run in range(args.runs):
            links = seed(url, args.links)
            summary = liveness.run_checks(url, links, settings)
            if summary.results["live"] + summary.results["dead"] != args.links:
                raise SystemExit(f"unexpected results {dict(summary.results)}")
            ours.append(args.links / summary.elapsed)
            links = seed(url, args.links)
            theirs.append(args.links / naive(url, links, bases))
            print(f"latency {latency_ms:g} ms, run {run + 1}: check_links {ours[-1]:7.1f} checks/s, "
                  f"naive sequential {theirs[-1]:7.1f} checks/s", file=sys.stderr)
    finally:
        fake.stdin.close()
        fake.wait(timeout=10)
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", default="0,50", help="comma-separated fake answer delays")
    args = parser.parse_args()
    url = bench_url()
    results = [(ms, *scenario(args, url, ms)) for ms in (float(x) for x in args.latency_ms.split(","))]
    print(f"liveness checks against the local fake, rate limits off, {args.links} links/run, "
          f"median of {args.runs} runs (target >= 20 checks/s):")
    print(f"  {'fake latency':>12}  {'check_links (c=' + str(args.concurrency) + ')':>20}  "
          f"{'naive sequential':>17}  speed-up")
    for ms, ours, theirs in results:
        print(f"  {ms:>9g} ms  {ours:>14.1f} /s  {theirs:>14.1f} /s  {ours / theirs:>7.1f}x")


if __name__ == "__main__":
    main()
