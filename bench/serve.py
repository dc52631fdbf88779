"""Web console benchmark: server time of its pages and the API list (median, p95) at 1M links / 5M sightings.

Pages: the links page, text searches, a link page, the dashboard and triage; each beside the bare SQL of
the same queries in the same run; then requests/s of the API list with 20 concurrent clients.

    .venv/bin/python -m bench.serve [--scale 1.0] [--runs 21] [--clients 20] [--requests 400] [--reseed]

Uses bench.query's database and seed (LINKWATCH_BENCH_DATABASE_URL, else `linkwatch_bench` on the embedded
server; created and seeded if missing, reused when the scale matches). The console runs as `linkwatch serve`
in its own process on 127.0.0.1 (a free port); the clients run here. Server time is the console's own
Server-Timing header (request received to response started); round trip is measured by the client.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.query import MEDIUM, RARE, bench_url, p95, seed, seeded_scale
from linkwatch.db import console as read
from linkwatch.db.links import PROBE_TEXT_ABOVE, LinkFilters, build_search, expected_text_matches
from linkwatch.db.migrate import migrate
from linkwatch.db.sql import query
from linkwatch.db.users import create_token, reset_user

LINKWATCH = str(Path(sys.executable).parent / "linkwatch")
USER = "bench-web"


def start_console(url: str) -> tuple[subprocess.Popen, str]:
    """`linkwatch serve --port 0` on the bench database; returns once it says where it listens."""
    env = {**os.environ, "LINKWATCH_DATABASE_URL": url}
    proc = subprocess.Popen([LINKWATCH, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        m = re.search(r"linkwatch console on (http://\S+)/ ", line)
        if m:
            return proc, m.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit("linkwatch serve did not start")


def log_in(client: httpx.Client, password: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = client.post("/login", data={"name": USER, "password": password, "csrf": token})
    assert r.status_code == 303, r.text[:300]


def server_ms(response: httpx.Response) -> float:
    return float(response.headers["server-timing"].split("dur=")[1])


def measure(client: httpx.Client, path: str, runs: int, sql: Callable[[], object] | None,
            **kwargs: Any) -> tuple[list[float], list[float], list[float]]:
    """(server ms, round-trip ms, bare SQL ms) of `runs` GETs after two warm-ups, each followed by the
    bare SQL of the same query: both see the same load on the machine."""
    for _ in range(2):
        client.get(path, **kwargs).raise_for_status()
        if sql is not None:
            sql()
    server, trip, bare_ms = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(path, **kwargs)
        trip.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        server.append(server_ms(r))
        if sql is not None:
            t = time.perf_counter()
            sql()
            bare_ms.append((time.perf_counter() - t) * 1000)
    return server, trip, bare_ms


def search_sql(conn: psycopg.Connection, f: LinkFilters) -> Callable[[], object]:
    """What links.search() sends for these filters: the text count (if any), then the page's statement."""

    def run() -> object:
        probe = bool(f.text) and expected_text_matches(conn, f.text) > PROBE_TEXT_ABOVE
        statement, params = build_search(f, probe_text=probe)
        return conn.execute(statement, params).fetchall()

    return run


def link_sql(conn: psycopg.Connection, link_id: int) -> Callable[[], object]:
    """The link page's queries: the link, its four lists, and the three kinds of related link."""

    def run() -> object:
        params = {"id": link_id}
        title = conn.execute(query("links", "show_link"), params).fetchone()[14]
        for part in ("sightings", "checks", "reviews", "referrals"):
            conn.execute(query("links", f"show_{part}"), params).fetchall()
        return read.related_links(conn, link_id, title)

    return run


def dashboard_sql(conn: psycopg.Connection) -> Callable[[], object]:
    """The dashboard's figures, uncached: counts, new links per day, takedown, source health."""
    from datetime import UTC, datetime, timedelta

    from linkwatch.db.health import source_health
    from linkwatch.jobs.report import takedown

    def run() -> object:
        since = datetime.now(UTC) - timedelta(days=30)
        return (read.link_counts(conn), read.new_links_per_day(conn, since, "Asia/Seoul"),
                takedown(conn), read.takedown_by_platform(conn), source_health(conn, reap=False))

    return run


def concurrent(base: str, token: str, path: str, params: dict, clients: int,
               total: int) -> tuple[float, float]:
    """(requests/s, p95 round-trip ms) of `total` API requests shared by `clients` threads."""
    left = [total]
    lock = threading.Lock()
    trips: list[float] = []
    errors = [0]

    def worker() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            while True:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                t = time.perf_counter()
                r = c.get(path, params=params)
                elapsed = (time.perf_counter() - t) * 1000
                with lock:
                    trips.append(elapsed)
                    errors[0] += r.status_code != 200

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    wall = time.perf_counter() - started
    if errors[0]:
        print(f"  {errors[0]} request(s) failed")
    return len(trips) / wall, p95(trips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="benchmark database (default LINKWATCH_BENCH_DATABASE_URL)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M links, 5M sightings")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="API requests shared by the clients")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    url = bench_url(args.database_url)
    migrate(url)
    scale = seeded_scale(url)
    if args.reseed or scale is None or abs(scale - args.scale) > 1e-9:
        print(f"seeding scale {args.scale} …")
        seed(url, args.scale)
    password = secrets.token_urlsafe(16)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET jit = off")
        reset_user(conn, USER, "admin", password)
        token = create_token(conn, USER)
        counts = conn.execute("SELECT (SELECT count(*) FROM links), "
                              "(SELECT count(*) FROM sightings)").fetchone()
        link_id = conn.execute("SELECT id FROM links ORDER BY id OFFSET %s LIMIT 1",
                               (counts[0] // 2,)).fetchone()[0]
    print(f"links {counts[0]:,}  sightings {counts[1]:,}  ({args.runs} runs each; ms)")
    proc, base = start_console(url)
    try:
        cases: list[tuple[str, str, dict, LinkFilters | None, str]] = [
            ("links page (score order)", "/links", {}, LinkFilters(limit=51), "page"),
            ("links page, last-seen, discord", "/links", {"sort": "last-seen", "platform": "discord"},
             LinkFilters(sort="last-seen", platform=("discord",), limit=51), "page"),
            (f"text search {RARE} (0.05%)", "/links", {"text": RARE},
             LinkFilters(text=RARE, limit=51), "page"),
            (f"text search {MEDIUM} (1%)", "/links", {"text": MEDIUM},
             LinkFilters(text=MEDIUM, limit=51), "page"),
            ("API list (limit 50)", "/api/v1/links", {}, LinkFilters(limit=51), "api"),
            (f"API list, text {RARE}", "/api/v1/links", {"text": RARE},
             LinkFilters(text=RARE, limit=51), "api"),
            (f"link page (link {link_id})", f"/links/{link_id}", {}, None, "page"),
            ("dashboard", "/", {}, None, "page"),
            ("triage", "/triage", {}, None, "page"),
        ]
        print(f"{'':<36}{'server median':>14}{'p95':>8}{'round trip':>12}{'bare SQL':>10}{'overhead':>10}")
        bearer = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=60) as web, \
                httpx.Client(base_url=base, timeout=60, headers=bearer) as api, \
                psycopg.connect(url, autocommit=True) as conn:
            log_in(web, password)
            conn.execute("SET jit = off")
            for label, path, params, filters, kind in cases:
                client = api if kind == "api" else web
                sql = (search_sql(conn, filters) if filters is not None
                       else link_sql(conn, link_id) if path.startswith("/links/")
                       else dashboard_sql(conn) if path == "/" else None)
                server, trip, bare_ms = measure(client, path, args.runs, sql, params=params)
                med = statistics.median(server)
                if bare_ms:
                    sql_ms = statistics.median(bare_ms)
                    shown = f"{sql_ms:10.1f}{med - sql_ms:10.1f}"
                else:
                    shown = f"{'–':>10}{'–':>10}"
                print(f"{label:<36}{med:14.1f}{p95(server):8.1f}{statistics.median(trip):12.1f}{shown}")
            print("  dashboard: its figures are cached (refreshed in the background every 60 s); "
                  "its 'bare SQL' is computing them")
        rate, tail = concurrent(base, token, "/api/v1/links", {}, args.clients, args.requests)
        print(f"\nAPI list with {args.clients} concurrent clients, {args.requests} requests: "
              f"{rate:.0f} requests/s (round-trip p95 {tail:.0f} ms; clients and server share the cores)")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
