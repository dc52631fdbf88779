"""Crawl benchmark: a full linkwatch crawl (extract + store into PostgreSQL) vs a bare Scrapy spider.

    .venv/bin/python -m bench.crawl [--database-url URL] [--pages 10000] [--runs 5]
                                    [--browser-pages 150] [--browser-runs 3]

`--runs 0` skips the static part, `--browser-runs 0` the browser part.

A generated forum (made-up invite codes, ~30 KB pages, 20 same-site links each, tiny synthetic
"images" that are counted, never real) is served from a separate process. Each crawl runs in its own
child process, so peak memory is that child's ru_maxrss (os.wait4). Figures are medians of the runs:
static pages/s and peak RSS of linkwatch vs the bare spider (same server, same run), then browser
mode pages/s with media aborted (linkwatch's settings) vs not aborted, and media requests seen by
the server in each. A throwaway database is created on the server and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FILLER = ("<p>" + "Ordinary forum chatter about the weekend, the weather and the match. " * 6 + "</p>\n") * 18
MEDIA_BYTES = b"LWSYNTHETIC" * 4


def _links(i: int, n: int) -> list[int]:
    return [(i + 1) % n] + [(i * 7919 + k * 104_729 + k * k * 31) % n for k in range(1, 20)]


def page_html(i: int, n: int, media: bool) -> bytes:
    links = "".join(f'<li><a href="/t/{j}">thread {j}</a></li>' for j in _links(i, n))
    invite = f"<p>join https://t.me/+LwBench{i % (n // 4 or 1):06d}x</p>" if i % 3 == 0 else ""
    pictures = "".join(f'<img src="/img/{i}-{k}.png">' for k in range(6)) + '<video src="/v/1.mp4"></video>'
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Thread {i}</title></head><body>"
        f"<h1>Thread {i}</h1>{invite}<ul>{links}</ul>{FILLER}{pictures if media else ''}</body></html>"
    ).encode()


def serve(port_queue: multiprocessing.Queue, counter: multiprocessing.Value, n: int, media: bool) -> None:
    """The generated forum (run in its own process)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path = self.path
            if path.startswith(("/img/", "/v/")):
                with counter.get_lock():
                    counter.value += 1
                body, ctype = MEDIA_BYTES, "image/png"
            elif path == "/robots.txt":
                body, ctype = b"User-agent: *\nDisallow:\n", "text/plain"
            else:
                try:
                    i = int(path.rsplit("/", 1)[1]) if path.startswith("/t/") else 0
                except ValueError:
                    i = 0
                body, ctype = page_html(i % n, n, media), "text/html; charset=utf-8"
            try:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # the crawler hung up after the headers (a media refusal or a header-only check)
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


class Forum:
    """The generated forum in a child process."""

    def __init__(self, n: int, media: bool = False) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.media = ctx.Value("i", 0)
        queue = ctx.Queue()
        self.proc = ctx.Process(target=serve, args=(queue, self.media, n, media), daemon=True)
        self.proc.start()
        self.url = f"http://127.0.0.1:{queue.get(timeout=30)}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.join(10)


# -- child processes ------------------------------------------------------------------------------


def child_bare(url: str, pages: int) -> dict:
    """A bare Scrapy spider: follows every same-site link, nothing else."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Bare(scrapy.Spider):
        name = "bare"
        allowed_domains = ("127.0.0.1",)

        async def start(self):
            yield scrapy.Request(url + "/")

        def parse(self, response):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, self.parse)

    process = CrawlerProcess(
        {
            "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
            "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False,
            "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0,
            "CLOSESPIDER_PAGECOUNT": pages, "COOKIES_ENABLED": False,
        }
    )
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    return {"pages": stats.get("response_received_count", 0), "seconds": stats["elapsed_time_seconds"]}


def child_linkwatch(url: str, pages: int, db: str, render: str, abort_media: bool) -> dict:
    """A full linkwatch crawl (run_crawls, as `linkwatch crawl` does it)."""
    from crawler.browser import CHROMIUM_ARGS
    from linkwatch.cli.crawl import run_crawls
    from linkwatch.config import load_config
    from linkwatch.sources import Source

    source = Source(name=f"bench-{render}", start_urls=[url + "/"], render=render, delay=0.0,
                    concurrency=16 if render == "static" else 8, max_depth=100, max_pages=pages)
    overrides = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16}
    if render == "browser" and not abort_media:
        overrides["PLAYWRIGHT_ABORT_REQUEST"] = None
        args = [a for a in CHROMIUM_ARGS if not a.startswith("--blink-settings")]
        overrides["PLAYWRIGHT_LAUNCH_OPTIONS"] = {
            "executable_path": load_config().chromium_path(), "args": args, "headless": True,
        }
    (result,) = run_crawls([source], database_url=db, progress=False, overrides=overrides)
    return {"pages": result.figures["pages"], "seconds": result.stats["elapsed_time_seconds"],
            "links": result.figures["links"], "status": result.status}


def run_child(args: list[str], env: dict[str, str]) -> dict:
    """Runs `python -m bench.crawl --child …`; returns its JSON plus its own peak RSS in MB."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.crawl", "--child", *args], stdout=subprocess.PIPE, env=env, text=True
    )
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


# -- main -----------------------------------------------------------------------------------------


def fresh_database(admin_url: str) -> tuple[str, str]:
    import psycopg
    from psycopg import sql

    from linkwatch.db.migrate import migrate

    name = f"lw_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    migrate(url)
    return name, url


def drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE sightings, pages, links, crawl_runs, sources RESTART IDENTITY CASCADE")


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--browser-pages", type=int, default=150)
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, url, pages, *rest = args.child
        if kind == "bare":
            result = child_bare(url, int(pages))
        else:
            db, render, abort = rest
            result = child_linkwatch(url, int(pages), db, render, abort == "abort")
        print(json.dumps(result))
        return

    from linkwatch.db import database_url

    admin = args.database_url or database_url()
    name, db = fresh_database(admin)
    data_dir = tempfile.mkdtemp(prefix="lw-bench-")
    env = {**os.environ, "LINKWATCH_DATA_DIR": data_dir, "LINKWATCH_DATABASE_URL": db}
    try:
        # --runs 0 skips the static part (no 10,000-page forum is generated).
        forum = Forum(args.pages) if args.runs else None
        bare, full = [], []
        try:
            for run in range(args.runs):
                bare.append(run_child(["bare", forum.url, str(args.pages)], env))
                empty(db)
                full.append(run_child(["linkwatch", forum.url, str(args.pages), db, "static", "abort"], env))
                print(f"run {run + 1}: bare {bare[-1]['pages'] / bare[-1]['seconds']:.0f} pages/s, "
                      f"linkwatch {full[-1]['pages'] / full[-1]['seconds']:.0f} pages/s", file=sys.stderr)
        finally:
            if forum is not None:
                forum.close()
        if args.runs:
            for r in bare + full:
                r["rate"] = r["pages"] / r["seconds"]
            print(f"static crawl of a generated forum, {args.pages} pages, median of {args.runs} runs")
            for label, rs in (("bare Scrapy spider", bare), ("linkwatch crawl (store)", full)):
                rate, rss = median(rs, "rate"), median(rs, "rss_mb")
                print(f"  {label:24}{rate:8.1f} pages/s   peak RSS {rss:6.0f} MB")
            print(f"  links stored by linkwatch per run: {full[-1]['links']}")
            ratio = median(full, "rate") / median(bare, "rate")
            extra = median(full, "rss_mb") - median(bare, "rss_mb")
            print(f"  ratio {ratio:.0%} of bare (target >= 80%), memory +{extra:.0f} MB (target <= 100 MB)")

        if args.browser_runs:
            rows = {}
            for label, abort in (("media aborted", "abort"), ("media not aborted", "allow")):
                results, media = [], []
                for _ in range(args.browser_runs):
                    bforum = Forum(args.browser_pages, media=True)
                    try:
                        empty(db)
                        results.append(run_child(
                            ["linkwatch", bforum.url, str(args.browser_pages), db, "browser", abort], env
                        ))
                        media.append(bforum.media.value)
                    finally:
                        bforum.close()
                for r in results:
                    r["rate"] = r["pages"] / r["seconds"]
                rows[label] = (median(results, "rate"), statistics.median(media), median(results, "rss_mb"))
            print(f"browser crawl, {args.browser_pages} pages with 7 media elements each, "
                  f"median of {args.browser_runs} runs")
            for label, (rate, media, rss) in rows.items():
                print(f"  {label:18} {rate:6.1f} pages/s   media requests at the server {media:5.0f}"
                      f"   crawler RSS {rss:5.0f} MB")
    finally:
        drop_database(admin, name)
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
