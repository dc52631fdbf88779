"""Freshness benchmark (issue #16): how soon a re-crawl finds what is new on a forum that moves on.

    .venv/bin/python -m bench.freshness [--database-url URL] [--pages 1000] [--runs 3]
                                        [--validators both|with|without] [--ticks 3]
                                        [--posts-per-hour 30] [--feeds] [--json freshness.json]

`--pages 10000` is the issue's target size (about 10 minutes a run on a 2-core machine); the quick
default is 1,000 pages.

The forum is tests/utils/moving.py (phpBB-like, served in this process, made-up invite codes).
Each run, on a fresh database:
1. a first crawl (`linkwatch crawl bench`) of the whole forum;
2. the database (and data directory) is copied, so both crawls below start from the same state;
3. the forum moves on: one topic in seven gets a reply (a fifth of those deep: page 3+ of a topic
   listed on page 2+ of its board), and new topics appear (one per hundred topics);
4. side by side, in alternating order: a full re-crawl (`linkwatch crawl bench --full`, or the plain
   crawl while `--full` does not exist) on one copy, the default crawl (`linkwatch crawl bench`) on
   the other. For each: recall of the new links (codes stored / codes posted), requests by kind,
   conditional requests and 304s (counted by the forum), seconds (measured, at no delay);
5. `--ticks` times: the forum moves on by five minutes of activity (`--posts-per-hour`; each post
   a new topic with odds 1 in 10, a deep reply 2 in 10, else a reply to a random topic) and both
   crawls run again, each on its own copy; each records the run's request count and when in the
   run (request ordinal) each new advert's page was fetched.

Detection latency (post appears -> link stored) at a 5-minute schedule, one request a second, is
then simulated over a day (docs/benchmarks.md, "Freshness", has the model): posts arrive at
uniformly random times; runs start on the 5-minute ticks, never two at once (a tick that falls
during a run is skipped, as the scheduler's max_instances=1 does); a run takes its measured request
count x 1 s; a post is found by the first run that starts after it appears (conservative: a run
already under way may find it sooner), at the measured ordinal of its page in that run x 1 s, and is
stored within the store's flush interval (5 s, counted in full). Each crawl's runs are its own
measured ticks, taken in turn.

Figures are medians over runs, printed as a table and written as JSON (`--json`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.crawl import drop_database
from tests.utils.moving import KINDS, MovingForum

LINKWATCH = str(Path(sys.executable).parent / "linkwatch")
UA = "linkwatch-bench/1 (+ops@example.invalid)"
SOURCE = "bench"
DAY = 24 * 3600
FLUSH_SECONDS = 5.0  # pipelines/store.py DEFAULT_FLUSH_SECONDS: a stored page commits within this


@dataclass
class Crawl:
    """One measured crawl: what it cost and when it fetched each new advert's page."""

    label: str
    requests: int
    seconds: float
    by_kind: dict[str, int]
    conditional: int
    not_modified: int
    new: int  # new adverts posted since the previous crawl
    found: int  # of those, stored after this crawl
    positions: list[int] = field(default_factory=list)  # request ordinal of each found advert's page
    exit_code: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.new if self.new else 1.0


def has_full_option() -> bool:
    """Whether `linkwatch crawl` knows --full (the incremental crawl of issue #16 has landed)."""
    out = subprocess.run([LINKWATCH, "crawl", "--help"], capture_output=True, text=True, check=False).stdout
    return "--full" in out


def sources_file(directory: Path, url: str, concurrency: int) -> Path:
    path = directory / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "{SOURCE}"\nstart_urls = ["{url}/"]\ndelay = 0.0\nconcurrency = {concurrency}\n'
        "max_depth = 100\nmax_pages = 1000000\n",
        encoding="utf-8",
    )
    return path


def stored_codes(db: str) -> set[str]:
    import psycopg

    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT code FROM links")}


def create_database(admin: str, names: list[str], template: str | None = None) -> str:
    """A new benchmark database (migrated, or a copy of `template`); its name is in `names` before it
    exists, so the caller's `finally` drops it even if a signal lands mid-way."""
    import secrets

    import psycopg
    from psycopg import sql

    from linkwatch.db.migrate import migrate

    name = f"lw_bench_{secrets.token_hex(4)}"
    names.append(name)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(statement)
    url = psycopg.conninfo.make_conninfo(admin, dbname=name)
    if template is None:
        migrate(url)
    return url


def crawl(
    label: str,
    forum: MovingForum,
    db: str,
    data_dir: Path,
    sources: Path,
    extra: list[str],
    new_adverts: list,
) -> Crawl:
    """Runs `linkwatch crawl` as a user would and measures it from the forum's side."""
    env = {
        **os.environ,
        "LINKWATCH_DATABASE_URL": db,
        "LINKWATCH_DATA_DIR": str(data_dir),
        "LINKWATCH_USER_AGENT": UA,
    }
    forum.reset_counts()
    began = time.monotonic()
    proc = subprocess.run(
        [LINKWATCH, "crawl", SOURCE, "--sources", str(sources), "-q", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=6 * 3600,
        check=False,
    )
    seconds = time.monotonic() - began
    if proc.returncode != 0:
        print(
            f"{label}: linkwatch crawl exited {proc.returncode}: {proc.stderr.strip()[-500:]}",
            file=sys.stderr,
        )
    stats = forum.stats()
    codes = stored_codes(db)
    found = [a for a in new_adverts if a.code in codes]
    positions = [p for p in (forum.position(a.url) for a in found) if p is not None]
    return Crawl(
        label,
        int(stats["requests"]),
        seconds,
        dict(stats["by_kind"]),
        sum(stats["conditional"].values()),
        sum(stats["not_modified"].values()),
        len(new_adverts),
        len(found),
        positions,
        proc.returncode,
    )


def simulate_latency(
    runs: list[tuple[int, list[int]]],
    *,
    posts: int,
    interval: float,
    delay: float,
    seed: int,
    day: float = DAY,
) -> list[float]:
    """Detection latencies (s) of `posts` posts arriving at random over `day`, on a schedule of runs.

    `runs` are measured templates (request count, request ordinals of new adverts' pages), used in
    turn. See the module docstring for the model.
    """
    rng = random.Random(seed)
    pooled = [p for _, positions in runs for p in positions] or [0]
    arrivals = sorted(rng.uniform(0, day) for _ in range(posts))
    latencies: list[float] = []
    start, i, k = 0.0, 0, 0
    while k < len(arrivals):
        requests, positions = runs[i % len(runs)]
        duration = requests * delay
        # this run finds every post that appeared before it started and was not found yet
        while k < len(arrivals) and arrivals[k] <= start:
            position = rng.choice(positions or pooled)
            latencies.append(start - arrivals[k] + (position + 1) * delay + FLUSH_SECONDS)
            k += 1
        end = start + duration
        # the next tick at which no run is under way (max_instances=1: ticks during a run are skipped)
        start = max(start + interval, math.ceil(end / interval) * interval)
        i += 1
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return (
        {
            "median_s": statistics.median(ordered),
            "p90_s": ordered[int(0.9 * (len(ordered) - 1))],
            "max_s": ordered[-1],
        }
        if ordered
        else {"median_s": math.nan, "p90_s": math.nan, "max_s": math.nan}
    )


def one_run(args: argparse.Namespace, admin: str, validators: bool, run: int, full_flag: list[str]) -> dict:
    """First crawl, then full vs default re-crawl from the same state, then the ticks; one forum."""
    forum = MovingForum.sized(args.pages, validators=validators, feeds=args.feeds, seed=1000 * run + 16)
    pages = len(forum.page_urls())  # the size crawled first (it grows as it moves on)
    names: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="lw-fresh-"))
    with forum:
        try:
            db_a = create_database(admin, names)
            sources = sources_file(work, forum.url, args.concurrency)
            first = crawl("first", forum, db_a, work / "data-a", sources, [], forum.adverts())
            db_b = create_database(admin, names, template=names[0])
            if (work / "data-a").exists():
                shutil.copytree(work / "data-a", work / "data-b")
            topics = forum.topics
            changed = max(1, round(topics / 7))
            deep = changed // 5
            change = forum.advance(new_topics=max(1, topics // 100), new_replies=changed - deep, deep=deep)
            order = [("full", db_a, "data-a", full_flag), ("default", db_b, "data-b", [])]
            if run % 2:
                order.reverse()  # alternate who goes first
            measured = {
                label: crawl(label, forum, db, work / d, sources, flag, change.adverts)
                for label, db, d, flag in order
            }
            ticks: dict[str, list[Crawl]] = {"full": [], "default": []}
            per_tick = max(1, round(args.posts_per_hour * args.interval / 3600))
            rng = random.Random(run)
            for _ in range(args.ticks):
                # each post: a new topic (1 in 10), a deep reply (2 in 10) or a reply to any topic
                kinds = [rng.choices(("topic", "deep", "reply"), (1, 2, 7))[0] for _ in range(per_tick)]
                tick = forum.advance(
                    new_topics=kinds.count("topic"),
                    new_replies=kinds.count("reply"),
                    deep=kinds.count("deep"),
                    seconds=int(args.interval),
                )
                # both crawls again, each on its own copy, of the same forum state
                for label, db, d, flag in order:
                    ticks[label].append(crawl(label, forum, db, work / d, sources, flag, tick.adverts))
        finally:
            for name in names:
                drop_database(admin, name)
            shutil.rmtree(work, ignore_errors=True)
    return {
        "validators": validators,
        "run": run,
        "pages": pages,
        "topics": topics,
        "changed_topics": len(change.replied) + len(change.new_topics),
        "new_links": len(change.adverts),
        "first": first.__dict__,
        "full": measured["full"].__dict__,
        "default": measured["default"].__dict__,
        "ticks": {label: [t.__dict__ for t in crawls] for label, crawls in ticks.items()},
    }


def latency_for(results: list[dict], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The simulated day, for the default crawl and the full re-crawl, from their measured ticks."""
    posts = round(args.posts_per_hour * DAY / 3600)
    out = {}
    for label in ("full", "default"):
        templates = [(t["requests"], t["positions"]) for r in results for t in r["ticks"][label]]
        if not templates:
            continue
        latencies = simulate_latency(
            templates, posts=posts, interval=args.interval, delay=args.delay, seed=16
        )
        out[label] = summary(latencies)
    return out


def table(report: dict) -> str:
    lines = []
    for variant in report["variants"]:
        rs = variant["runs"]
        label = "with validators" if variant["validators"] else "without validators"
        lines.append(
            f"{label}: {statistics.median(r['pages'] for r in rs):,.0f} pages, "
            f"{statistics.median(r['topics'] for r in rs):,.0f} topics (medians); "
            f"{statistics.median(r['changed_topics'] for r in rs):.0f} topics changed, "
            f"{statistics.median(r['new_links'] for r in rs):.0f} new links; median of {len(rs)} runs"
        )
        lines.append(
            f"  {'':22}{'recall':>8}{'requests':>10}{'% of full':>11}{'conditional':>13}{'304s':>7}"
            f"{'seconds':>9}{'at 1 req/s':>12}{'latency median':>16}{'p90':>9}"
        )
        full_requests = statistics.median(r["full"]["requests"] for r in rs)
        for key, name in (("full", "full re-crawl"), ("default", "default crawl")):

            def m(field: str, key: str = key, rs: list[dict] = rs) -> float:
                return statistics.median(r[key][field] for r in rs)

            # pooled, not a median: one missed link in any run shows
            recall = sum(r[key]["found"] for r in rs) / max(1, sum(r[key]["new"] for r in rs))
            kinds = {k: statistics.median(r[key]["by_kind"].get(k, 0) for r in rs) for k in KINDS}
            lat = variant["latency"].get(key, {})
            lines.append(
                f"  {name:22}{recall:8.3f}{m('requests'):10.0f}{m('requests') / full_requests:11.1%}"
                f"{m('conditional'):13.0f}{m('not_modified'):7.0f}{m('seconds'):9.1f}"
                f"{m('requests') / 60:10.1f}min{lat.get('median_s', math.nan) / 60:13.1f}min"
                f"{lat.get('p90_s', math.nan) / 60:6.1f}min"
            )
            lines.append(
                "  " + " " * 22 + "by kind: " + ", ".join(f"{k} {n:.0f}" for k, n in kinds.items() if n)
            )
        for key, name in (("full", "full re-crawl"), ("default", "default crawl")):
            ticks = [t for r in rs for t in r["ticks"][key]]
            if ticks:
                lines.append(
                    f"  5-minute ticks, {name} ({len(ticks)}): "
                    f"{statistics.median(t['requests'] for t in ticks):.0f} requests a run (median), "
                    f"recall {sum(t['found'] for t in ticks)}/{sum(t['new'] for t in ticks)}"
                )
    lines.append(
        f"latency model: {report['posts_per_hour']} posts/hour over a day, a run every "
        f"{report['interval_s'] / 60:.0f} minutes, {report['delay_s']} s a request; "
        f"full re-crawl = {report['full_command']}; "
        f"the forum {'offers' if report.get('feeds') else 'has no'} feeds and sitemaps"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="an admin URL of the PostgreSQL server to create databases on")
    parser.add_argument("--pages", type=int, default=1_000, help="forum size (the issue's target: 10000)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--validators", choices=("both", "with", "without"), default="both")
    parser.add_argument(
        "--ticks", type=int, default=3, help="5-minute steps measured per run for the latency"
    )
    parser.add_argument("--posts-per-hour", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=300.0, help="schedule interval (s)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per request in the latency model")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--feeds", action="store_true", help="the forum offers Atom/RSS feeds and sitemaps")
    parser.add_argument("--json", default="freshness.json", help="where to write the results")
    args = parser.parse_args()
    # a plain `kill` still drops the benchmark's databases and files (the `finally` blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from linkwatch.config import load_config
    from linkwatch.db import database_url

    admin = args.database_url or database_url(load_config())
    full_flag = ["--full"] if has_full_option() else []
    variants = {"both": (True, False), "with": (True,), "without": (False,)}[args.validators]
    load = os.getloadavg()[0]
    report: dict = {
        "pages": args.pages,
        "feeds": args.feeds,
        "runs": args.runs,
        "posts_per_hour": args.posts_per_hour,
        "interval_s": args.interval,
        "delay_s": args.delay,
        "full_command": "linkwatch crawl NAME " + (" ".join(full_flag) or "(no --full yet)"),
        "load_before": load,
        "variants": [],
    }
    for validators in variants:
        results = []
        for run in range(args.runs):
            r = one_run(args, admin, validators, run, full_flag)
            results.append(r)
            print(
                f"{'with' if validators else 'without'} validators, run {run + 1}: "
                f"full {r['full']['requests']} requests ({r['full']['found']}/{r['full']['new']} new links), "
                f"default "
                f"{r['default']['requests']} ({r['default']['found']}/{r['default']['new']})",
                file=sys.stderr,
            )
        report["variants"].append(
            {"validators": validators, "runs": results, "latency": latency_for(results, args)}
        )
    report["load_after"] = os.getloadavg()[0]
    print(table(report))
    print(f"load average {report['load_before']:.1f} before, {report['load_after']:.1f} after")
    Path(args.json).write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
