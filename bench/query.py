"""Query benchmark: `links` searches (median, p95) and a 50,000-link weekly export at 1M links / 5M sightings.

    .venv/bin/python -m bench.query [--scale 1.0] [--runs 7] [--export-links 50000] [--reseed]
                                    [--only searches|export]

Uses a dedicated database (LINKWATCH_BENCH_DATABASE_URL, created if missing; else `linkwatch_bench` on
the embedded server), migrates it and fills it by COPY with synthetic rows (made-up codes, neutral
Korean/English text): 1,000,000 x scale links, 5 sightings per link, 1 page per 5 sightings. The seed is
kept between runs (same scale). Baselines in the same run: each text search with the trigram indexes
disabled, and a bare COPY of the export's links.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from linkwatch.config import load_config
from linkwatch.db.links import LinkFilters, build_search, search
from linkwatch.db.migrate import migrate
from linkwatch.jobs.report import parse_week, weekly

PLATFORMS = [("telegram", "invite", "https://t.me/+"), ("telegram", "channel", "https://t.me/"),
             ("discord", "invite", "https://discord.gg/"), ("kakao", "room", "https://open.kakao.com/o/"),
             ("line", "group", "https://line.me/ti/g/")]
WORDS = ["게시판", "자유", "공지", "문의", "참여", "링크", "방", "모집",
         "정보", "후기", "질문", "스터디", "채팅",
         "welcome", "group", "chat", "study", "notice", "join", "free", "board", "info"]
RARE = "딥페이크합성"   # in ~0.05% of contexts: a selective search
MEDIUM = "지인능욕"      # in ~1% of contexts
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_DAYS = 300
N_SOURCES = 20


def bench_url(admin: str | None) -> str:
    """The benchmark database URL, creating the database when it does not exist."""
    config = load_config()
    url = admin or config.bench_database_url
    if not url:
        from linkwatch.db import database_url

        url = psycopg.conninfo.make_conninfo(database_url(config), dbname="linkwatch_bench")
    name = psycopg.conninfo.conninfo_to_dict(url).get("dbname") or "linkwatch_bench"
    server = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


def context(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 14))
    r = rng.random()
    if r < 0.0005:
        words.insert(rng.randint(0, len(words)), RARE)
    elif r < 0.0105:
        words.insert(rng.randint(0, len(words)), MEDIUM)
    return " ".join(words)


def seed(url: str, scale: float) -> None:
    """Empties the tables and fills them by COPY; secondary indexes are rebuilt afterwards."""
    n_links = int(1_000_000 * scale)
    n_sightings = n_links * 5
    n_pages = max(1, n_sightings // 5)
    rng = random.Random(20261121)
    with psycopg.connect(url, autocommit=True) as conn:
        # Not audit_log: it is append-only (migration 0009), and the benchmarks never read it.
        conn.execute("TRUNCATE sources, crawl_runs, pages, links, sightings, sighting_texts, "
                     "sighting_text_queue, link_checks, reviews, referrals, referral_items "
                     "RESTART IDENTITY CASCADE")
        # One transaction: a seed that fails half-way leaves the tables and their indexes as they were.
        with conn.transaction():
            indexes = conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname "
                "LEFT JOIN pg_constraint k ON k.conindid = c.oid "
                "WHERE i.schemaname = 'public' "
                "AND i.tablename IN ('links', 'sightings', 'pages', 'sighting_texts') "
                "AND k.oid IS NULL").fetchall()
            for name, _ in indexes:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            started = time.perf_counter()
            with conn.cursor() as cur:
                with cur.copy("COPY sources (name) FROM STDIN") as cp:
                    for i in range(N_SOURCES):
                        cp.write_row((f"bench-forum-{i:02d}",))
                with cur.copy("COPY crawl_runs (source_id, status, started_at) FROM STDIN") as cp:
                    for i in range(N_SOURCES * 10):
                        cp.write_row((i % N_SOURCES + 1, "finished", T0 + timedelta(days=i)))
                with cur.copy("COPY pages (url, sha256, fetched_at, http_status, title, crawl_run_id) "
                              "FROM STDIN") as cp:
                    for i in range(n_pages):
                        at = T0 + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
                        title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
                        cp.write_row((f"http://bench-{i % N_SOURCES:02d}.test/t/{i}", f"{i:064x}", at, 200,
                                      title, i % (N_SOURCES * 10) + 1))
                print(f"  pages {n_pages:,} ({time.perf_counter() - started:.0f} s)")
                statuses = ["new"] * 80 + ["confirmed"] * 5 + ["dismissed"] * 10 + ["referred"] * 5
                livenesses = ["unchecked"] * 40 + ["live"] * 40 + ["dead"] * 15 + ["unknown"] * 5
                firsts = []
                with cp_links(cur) as cp:
                    for i in range(n_links):
                        platform, kind, prefix = PLATFORMS[i % len(PLATFORMS)]
                        code = f"BENCH{i:08d}"
                        first = T0 + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
                        firsts.append(first)
                        last = first + timedelta(seconds=rng.randrange(30 * 86400))
                        title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} 방" if rng.random() < 0.3 else None
                        cp.write_row((platform, kind, code, prefix + code, first, last, 5,
                                      round(rng.random() * 10, 2), rng.choice(statuses),
                                      rng.choice(livenesses), title))
                print(f"  links {n_links:,} ({time.perf_counter() - started:.0f} s)")
                # The context search copy is filled in one statement below, not queued by the trigger
                # (whose transition table would hold all 5,000,000 rows).
                cur.execute("ALTER TABLE sightings DISABLE TRIGGER sightings_queue_texts")
                with cur.copy("COPY sightings (link_id, page_id, crawl_run_id, seen_at, raw, context, "
                              "post_key) FROM STDIN") as cp:
                    for link in range(1, n_links + 1):
                        pages = rng.sample(range(1, n_pages + 1), 5) if n_pages >= 5 else [1] * 5
                        for k, page in enumerate(pages[:5] if n_pages >= 5 else pages[:1]):
                            cp.write_row((link, page, page % (N_SOURCES * 10) + 1,
                                          firsts[link - 1] + timedelta(hours=k), f"t.me/+BENCH{link - 1:08d}",
                                          context(rng), f"post:bench.test/{page}"))  # one post per page
                cur.execute("ALTER TABLE sightings ENABLE TRIGGER sightings_queue_texts")
                cur.execute("INSERT INTO sighting_texts (sighting_id, link_id, context) "
                            "SELECT id, link_id, context FROM sightings")
                print(f"  sightings {n_sightings:,} and their context copies "
                      f"({time.perf_counter() - started:.0f} s)")
            for name, definition in indexes:
                t = time.perf_counter()
                conn.execute(definition)
                print(f"  index {name} ({time.perf_counter() - t:.0f} s)")
        conn.execute("ANALYZE")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (scale real)")
        conn.execute("DELETE FROM bench_meta")
        conn.execute("INSERT INTO bench_meta VALUES (%s)", (scale,))
        print(f"  seeded in {time.perf_counter() - started:.0f} s")


def cp_links(cur: psycopg.Cursor):
    return cur.copy("COPY links (platform, kind, code, canonical_url, first_seen, last_seen, sightings, "
                    "score, status, liveness, preview_title) FROM STDIN")


def seeded_scale(url: str) -> float | None:
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT to_regclass('bench_meta')").fetchone()[0]:
            return None
        row = conn.execute("SELECT scale FROM bench_meta").fetchone()
        return row[0] if row else None


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


SEARCHES: list[tuple[str, LinkFilters]] = [
    ("default (score order)", LinkFilters()),
    ("--platform discord --status new", LinkFilters(platform=("discord",), status=("new",))),
    ("--sort last-seen --since 7 days", LinkFilters(sort="last-seen",
                                                     since=T0 + timedelta(days=SPAN_DAYS - 7))),
    ("--seen first --since/--until 1 day", LinkFilters(seen="first", since=T0 + timedelta(days=100),
                                                        until=T0 + timedelta(days=101))),
    ("--min-score 9.5 --live", LinkFilters(min_score=9.5, live=True)),
    ("--source bench-forum-03", LinkFilters(source=("bench-forum-03",))),
    (f"--text {RARE} (0.05%)", LinkFilters(text=RARE)),
    (f"--text {MEDIUM} (1%)", LinkFilters(text=MEDIUM)),
    (f"--text {MEDIUM} --platform kakao --live", LinkFilters(text=MEDIUM, platform=("kakao",), live=True)),
    (f"--text {WORDS[0]} (a word in ~40%)", LinkFilters(text=WORDS[0])),
    ("--offset 10000 (deep page)", LinkFilters(offset=10_000)),
]


def bench_searches(url: str, runs: int) -> None:
    print(f"\nlinks searches (limit 50; {runs} runs each; ms)")
    print(f"{'search':<44}{'median':>9}{'p95':>9}{'rows':>6}   baseline: no trigram index (median)")
    with psycopg.connect(url, autocommit=True) as conn:
        for label, f in SEARCHES:
            rows = search(conn, f, "bench")  # warm-up, and the row count
            times = timed(lambda f=f: search(conn, f, "bench"), runs)
            base = ""
            if f.text:
                statement, params = build_search(f)
                conn.execute("SET enable_bitmapscan = off")
                btimes = timed(lambda s=statement, p=params: conn.execute(s, p).fetchall(), max(1, runs // 3))
                conn.execute("RESET enable_bitmapscan")
                base = f"{statistics.median(btimes):9.0f}"
            print(f"{label:<44}{statistics.median(times):9.1f}{p95(times):9.1f}{len(rows):6d}   {base}")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the export writes XLSX in a child)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# Undoes a run's referral marks (older exports set links.status = 'referred').
RESET = "UPDATE links SET status = 'confirmed' WHERE id = ANY(%s) AND status <> 'confirmed'"


def bench_export(url: str, n: int, runs: int) -> None:
    tz = load_config().zone
    week = parse_week("2099-W01", tz)
    print(f"\nweekly export of {n:,} links (csv + xlsx + jsonl; {runs} runs; s)")
    with psycopg.connect(url, autocommit=True) as conn:
        # The first n new-or-confirmed links become the confirmed, live ones; only changed rows are
        # written, so a second invocation does not churn 100,000 rows before timing.
        ids = [r[0] for r in conn.execute("SELECT id FROM links WHERE status IN ('new', 'confirmed') "
                                          "ORDER BY id LIMIT %s", (n,))]
        conn.execute("UPDATE links SET status = 'new' WHERE status = 'confirmed' AND NOT id = ANY(%s)",
                     (ids,))
        conn.execute("UPDATE links SET status = 'confirmed', liveness = 'live' WHERE id = ANY(%s) "
                     "AND (status, liveness) <> ('confirmed', 'live')", (ids,))
        times, base, cpu, record = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(runs):
                conn.execute("DELETE FROM referrals WHERE period = %s", (week.period,))
                conn.execute(RESET, (ids,))
                # The deleted run's 50,000 items are dead rows under the same refs: without this each
                # run inserts into ever more bloated indexes (a real referral is never deleted).
                conn.execute("VACUUM ANALYZE referral_items, referrals")
                t, c = time.perf_counter(), cpu_seconds()
                marks: list[float] = []
                # a week far ahead takes every synthetic link; recorded "after" it, as a real one is
                result = weekly(conn, week, Path(tmp) / str(i), url=url, tz=tz, who="bench", now=week.end,
                                progress=lambda _m, marks=marks: marks.append(time.perf_counter()))
                times.append(time.perf_counter() - t)
                # Progress lines: recording, reading, writing (…). The first stage chooses the links;
                # their referral_items are inserted in a thread while the files are written.
                record.append(marks[1] - marks[0] if len(marks) > 1 else float("nan"))
                cpu.append(cpu_seconds() - c)
                assert len(result.rows) == n, len(result.rows)
                t = time.perf_counter()
                with conn.cursor().copy("COPY (SELECT * FROM links WHERE id = ANY(%s)) TO STDOUT",
                                        (ids,)) as cp:
                    for _ in cp:
                        pass
                base.append(time.perf_counter() - t)
            sizes = {p.suffix: p.stat().st_size for p in (Path(tmp) / "0").iterdir()}
        conn.execute("DELETE FROM referrals WHERE period = %s", (week.period,))
        conn.execute(RESET, (ids,))
    print(f"export median {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f}; "
          f"choosing the links {statistics.median(record):.2f} s; "
          f"linkwatch CPU incl. child processes {statistics.median(cpu):.2f} s)   "
          f"baseline bare COPY of those links: {statistics.median(base):.2f} s")
    print("  runs: " + ", ".join(f"{t:.1f}" for t in times))
    print("  file sizes: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="benchmark database (default LINKWATCH_BENCH_DATABASE_URL)")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M links, 5M sightings")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--export-links", type=int, default=50_000)
    parser.add_argument("--export-runs", type=int, default=5)
    parser.add_argument("--reseed", action="store_true", help="seed again even if the scale matches")
    parser.add_argument("--only", choices=("searches", "export"), help="run only this part")
    args = parser.parse_args()
    url = bench_url(args.database_url)
    migrate(url)
    scale = seeded_scale(url)
    if args.reseed or scale is None or abs(scale - args.scale) > 1e-9:
        print(f"seeding scale {args.scale} ({int(1e6 * args.scale):,} links, {int(5e6 * args.scale):,} "
              "sightings) …")
        seed(url, args.scale)
    else:
        print(f"reusing the seed at scale {scale}")
    with psycopg.connect(url) as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM links), (SELECT count(*) FROM sightings), "
                              "(SELECT count(*) FROM pages)").fetchone()
    print(f"links {counts[0]:,}  sightings {counts[1]:,}  pages {counts[2]:,}")
    if args.only != "export":
        bench_searches(url, args.runs)
    if args.only != "searches":
        bench_export(url, min(args.export_links, counts[0] // 2), args.export_runs)


if __name__ == "__main__":
    main()
