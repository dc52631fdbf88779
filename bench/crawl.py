"""Crawl benchmark: a full linkwatch crawl (extract + store into PostgreSQL) vs a bare crawler.

    .venv/bin/python -m bench.crawl [--database-url URL] [--pages 10000] [--runs 5]
                                    [--browser-pages 150] [--browser-runs 3] [--js-kb 1024]

`--runs 0` skips the static part, `--browser-runs 0` the browser part.

A generated forum (made-up invite codes, ~30 KB pages, 20 same-site links each, tiny synthetic
"images" that are counted, never real) is served from a separate process. Each crawl runs in its own
child process, so peak memory is that child's ru_maxrss (os.wait4). Figures are medians of the runs.

Static: pages/s and peak RSS of linkwatch vs a bare Scrapy spider (same server, same run), and of
linkwatch with its crawl journal replaced by one that keeps nothing (issue #11: the journal's cost;
this variant exists only in the benchmark's child process, a crawl always journals).

Browser: every page also loads `--js-kb` of JavaScript (a vendor bundle and the page's app script),
a stylesheet, a favicon and 7 media elements, and its script draws part of the page from a JSON API
call (`/api/t/N`, the page's only request that no cache may answer). linkwatch's browser mode
(Chromium renders what Scrapy fetched) runs beside a bare Playwright crawler (8 tabs, Chromium
fetching everything itself with its own HTTP cache, images off, waiting for the page's own "drawn"
marker: a best case for speed, with no safety at all), interleaved in the same run. For each: pages/s,
CPU-ms per page (the crawl's child process and everything under it, Chromium and Playwright's
driver included, start-up too, sampled from /proc: on a shared machine a steadier figure than
pages/s), and from the server's own counts requests per page, KB per page, and icon/media requests.
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

from bench.proctree import TreeCpu

FILLER = ("<p>" + "Ordinary forum chatter about the weekend, the weather and the match. " * 6 + "</p>\n") * 18
MEDIA_BYTES = b"LWSYNTHETIC" * 4
# Server counters (shared with the serving process): index -> what
C_MEDIA, C_REQUESTS, C_BYTES, C_DOCS, C_ASSETS, C_API, C_ICONS = range(7)
APP_JS = (
    "fetch('/api/t/' + document.body.dataset.t).then((r) => r.json()).then((d) => {"
    " const p = document.createElement('p'); p.textContent = d.text; document.body.appendChild(p);"
    " document.body.dataset.drawn = '1'; });"
)


def vendor_js(kb: int) -> bytes:
    """A synthetic bundle of many small functions (V8 must at least pre-parse it), `kb` KB."""
    parts, size, n = ["/* synthetic vendor bundle */\n"], 0, 0
    while size < kb * 1024:
        line = f"function lwv{n}(a, b) {{ return (a * {n % 97} + b) ^ {n % 31}; }}\n"
        parts.append(line)
        size += len(line)
        n += 1
    return ("".join(parts) + "window.lwVendor = lwv1(2, 3);\n").encode()


def _links(i: int, n: int) -> list[int]:
    return [(i + 1) % n] + [(i * 7919 + k * 104_729 + k * k * 31) % n for k in range(1, 20)]


def page_html(i: int, n: int, media: bool) -> bytes:
    links = "".join(f'<li><a href="/t/{j}">thread {j}</a></li>' for j in _links(i, n))
    invite = f"<p>join https://t.me/+LwBench{i % (n // 4 or 1):06d}x</p>" if i % 3 == 0 else ""
    pictures = "".join(f'<img src="/img/{i}-{k}.png">' for k in range(6)) + '<video src="/v/1.mp4"></video>'
    head = ""
    if media:  # the browser forum: assets at real sizes, icons, a script drawing from an API
        head = ('<link rel="icon" href="/favicon.ico"><link rel="stylesheet" href="/static/app.css">'
                '<script src="/static/vendor.js"></script><script src="/static/app.js" defer></script>')
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Thread {i}</title>{head}</head>"
        f"<body data-t='{i}'><h1>Thread {i}</h1>{invite}<ul>{links}</ul>{FILLER}{pictures if media else ''}"
        "</body></html>"
    ).encode()


def serve(port_queue: multiprocessing.Queue, counter: multiprocessing.Array, n: int, media: bool,
          js_kb: int = 1024) -> None:
    """The generated forum (run in its own process)."""
    vendor = vendor_js(max(0, js_kb - 2))
    app = (APP_JS + "\n/*" + "x" * 2000 + "*/\n").encode()
    css = b"body { font-family: sans-serif; } li { margin: 2px; }\n" * 40

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            path = self.path
            kind = C_DOCS
            if path.startswith(("/img/", "/v/")):
                kind, body, ctype = C_MEDIA, MEDIA_BYTES, "image/png"
            elif path == "/favicon.ico":
                kind, body, ctype = C_ICONS, MEDIA_BYTES, "image/x-icon"
            elif path == "/robots.txt":
                kind, body, ctype = None, b"User-agent: *\nDisallow:\n", "text/plain"
            elif path.startswith("/static/"):
                kind = C_ASSETS
                body, ctype = {"/static/vendor.js": (vendor, "text/javascript"),
                               "/static/app.js": (app, "text/javascript"),
                               "/static/app.css": (css, "text/css")}.get(path, (b"", "text/plain"))
            elif path.startswith("/api/t/"):
                kind, ctype = C_API, "application/json"
                body = json.dumps({"text": f"drawn by script {path.rsplit('/', 1)[1]}"}).encode()
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
                self.send_header("Cache-Control", "max-age=3600" if kind == C_ASSETS else "no-cache")
                self.end_headers()
                self.wfile.write(body)
                sent = len(body)
            except (BrokenPipeError, ConnectionResetError):
                # the crawler hung up after the headers (a media refusal or a header-only check)
                self.close_connection = True
                sent = 0
            with counter.get_lock():
                counter[C_REQUESTS] += 1
                counter[C_BYTES] += sent
                if kind is not None:
                    counter[kind] += 1

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


class Forum:
    """The generated forum in a child process."""

    def __init__(self, n: int, media: bool = False, js_kb: int = 1024) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.counts = ctx.Array("q", 8)
        queue = ctx.Queue()
        self.proc = ctx.Process(target=serve, args=(queue, self.counts, n, media, js_kb), daemon=True)
        self.proc.start()
        self.url = f"http://127.0.0.1:{queue.get(timeout=30)}"

    def count(self, index: int) -> int:
        return int(self.counts[index])

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


def _no_journal() -> None:
    """Replaces the crawl journal by one that writes nothing and calls every record durable at once.
    Before anything imports Journal; only ever in a benchmark child, to price the real one."""
    from linkwatch.db import journal

    class NoJournal(journal.Journal):
        def open(self) -> journal.Journal:
            return self

        def append(self, record: dict) -> int:
            self._seq += 1
            self._durable = self._seq
            return self._seq

        def close(self, timeout: float = 30.0) -> bool:
            return True

    journal.Journal = NoJournal  # type: ignore[misc]


def child_linkwatch(url: str, pages: int, db: str, render: str, keep_journal: bool = True) -> dict:
    """A full linkwatch crawl (run_crawls, as `linkwatch crawl` does it)."""
    if not keep_journal:
        _no_journal()
    from crawler.runner import run_crawls
    from linkwatch.config import load_config
    from linkwatch.sources import Source

    source = Source(name=f"bench-{render}", start_urls=[url + "/"], render=render, delay=0.0,
                    concurrency=16 if render == "static" else 8, max_depth=100, max_pages=pages)
    overrides = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16}
    (result,) = run_crawls([source], database_url=db, config=load_config(), progress=False,
                           overrides=overrides)
    return {"pages": result.figures["pages"], "seconds": result.stats["elapsed_time_seconds"],
            "links": result.figures["links"], "status": result.status}


def child_bare_browser(url: str, pages: int) -> dict:
    """A bare Playwright crawler: 8 tabs, Chromium fetches each page and everything it wants itself
    (its HTTP cache on, images off), waits for the page's own "drawn" marker, follows same-site links."""
    import asyncio
    import time

    from playwright.async_api import async_playwright

    from crawler.browser import CHROMIUM_ARGS
    from linkwatch.config import load_config

    async def crawl() -> dict:
        async with async_playwright() as p:
            chromium = load_config().chromium_path()
            browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = await browser.new_context(service_workers="block")
            queue: asyncio.Queue[str] = asyncio.Queue()
            seen = {url + "/"}
            queue.put_nowait(url + "/")
            done = 0
            began = time.monotonic()

            async def worker() -> None:
                nonlocal done
                page = await context.new_page()
                while done < pages:
                    try:
                        target = await asyncio.wait_for(queue.get(), 10)
                    except TimeoutError:
                        return
                    await page.goto(target, wait_until="load")
                    await page.wait_for_selector("body[data-drawn]", state="attached", timeout=10_000)
                    await page.content()
                    done += 1
                    for href in await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                        if href.startswith(url) and href not in seen and len(seen) < pages:
                            seen.add(href)
                            queue.put_nowait(href)

            await asyncio.gather(*[worker() for _ in range(8)])
            seconds = time.monotonic() - began
            await browser.close()
            return {"pages": done, "seconds": seconds}

    return asyncio.run(crawl())


def run_child(args: list[str], env: dict[str, str]) -> dict:
    """Runs `python -m bench.crawl --child …`; returns its JSON plus its own peak RSS in MB."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.crawl", "--child", *args], stdout=subprocess.PIPE, env=env, text=True
    )
    cpu = TreeCpu(proc.pid)
    out = proc.stdout.read()
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: still readable
    by_name = cpu.stop()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024
    # CPU of the whole crawl, the child and everything it started (Chromium, Playwright's driver),
    # whole run including start-up: a figure that holds on a busy machine, unlike pages/s.
    result["cpu_s"] = sum(by_name.values())
    result["cpu_by_name"] = by_name
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


def browser_bench(args: argparse.Namespace, db: str, env: dict[str, str]) -> None:
    """linkwatch's browser mode beside a bare Playwright crawler, interleaved run by run."""
    modes = {"linkwatch browser mode": ["linkwatch", "{url}", "{pages}", db, "browser"],
             "bare Playwright crawler": ["bare-browser", "{url}", "{pages}"]}
    results: dict[str, list[dict]] = {label: [] for label in modes}
    for run in range(args.browser_runs):
        for label, template in modes.items():
            forum = Forum(args.browser_pages, media=True, js_kb=args.js_kb)
            try:
                empty(db)
                child = [a.format(url=forum.url, pages=args.browser_pages) for a in template]
                r = run_child(child, env)
                r["rate"] = r["pages"] / r["seconds"]
                pages = max(r["pages"], 1)
                r["req_per_page"] = (forum.count(C_REQUESTS) - 1) / pages  # robots.txt aside
                r["kb_per_page"] = forum.count(C_BYTES) / 1024 / pages
                r["api_per_page"] = forum.count(C_API) / pages
                r["assets"] = forum.count(C_ASSETS)
                r["unwanted"] = forum.count(C_MEDIA) + forum.count(C_ICONS)
                r["cpu_per_page"] = r["cpu_s"] / pages
                by_name = ", ".join(f"{name} {cpu:.1f}" for name, cpu in sorted(
                    r["cpu_by_name"].items(), key=lambda kv: -kv[1]) if cpu >= 0.1)
                results[label].append(r)
                print(f"browser run {run + 1}, {label}: {r['rate']:.1f} pages/s, "
                      f"{r['cpu_per_page'] * 1000:.0f} CPU-ms/page, "
                      f"{r['req_per_page']:.2f} req/page, {r['kb_per_page']:.0f} KB/page, "
                      f"{r['unwanted']} icon/media requests, load {os.getloadavg()[0]:.1f}; CPU-s: {by_name}",
                      file=sys.stderr)
            finally:
                forum.close()
    print(f"browser crawl, {args.browser_pages} pages with {args.js_kb} KB of JavaScript, a stylesheet, "
          f"a favicon, 7 media elements and one API call each, median of {args.browser_runs} runs")
    for label, rs in results.items():
        def m(key: str, rs: list[dict] = rs) -> float:
            return median(rs, key)

        print(f"  {label:24}{m('rate'):6.1f} pages/s   {m('cpu_per_page') * 1000:5.0f} CPU-ms/page   "
              f"{m('req_per_page'):5.2f} requests/page "
              f"({m('api_per_page'):.2f} API)   {m('kb_per_page'):7.0f} KB/page   "
              f"assets fetched {m('assets'):4.0f}   icon/media requests {m('unwanted'):5.0f}   "
              f"RSS {m('rss_mb'):4.0f} MB + Chromium")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--browser-pages", type=int, default=150)
    parser.add_argument("--browser-runs", type=int, default=3)
    parser.add_argument("--js-kb", type=int, default=1024, help="JavaScript per page in browser mode (KB)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, url, pages, *rest = args.child
        if kind == "bare":
            result = child_bare(url, int(pages))
        elif kind == "bare-browser":
            result = child_bare_browser(url, int(pages))
        else:
            db, render, *journal = rest
            result = child_linkwatch(url, int(pages), db, render, keep_journal=journal != ["no-journal"])
        print(json.dumps(result))
        return

    from linkwatch.config import load_config
    from linkwatch.db import database_url

    admin = args.database_url or database_url(load_config())
    name, db = fresh_database(admin)
    data_dir = tempfile.mkdtemp(prefix="lw-bench-")
    env = {**os.environ, "LINKWATCH_DATA_DIR": data_dir, "LINKWATCH_DATABASE_URL": db}
    try:
        # --runs 0 skips the static part (no 10,000-page forum is generated).
        forum = Forum(args.pages) if args.runs else None
        bare, full, unjournaled = [], [], []
        try:
            for run in range(args.runs):
                bare.append(run_child(["bare", forum.url, str(args.pages)], env))
                empty(db)
                full.append(run_child(["linkwatch", forum.url, str(args.pages), db, "static"], env))
                empty(db)
                unjournaled.append(run_child(["linkwatch", forum.url, str(args.pages), db, "static",
                                              "no-journal"], env))
                print(f"run {run + 1}: bare {bare[-1]['pages'] / bare[-1]['seconds']:.0f} pages/s, "
                      f"linkwatch {full[-1]['pages'] / full[-1]['seconds']:.0f} pages/s, without the "
                      f"journal {unjournaled[-1]['pages'] / unjournaled[-1]['seconds']:.0f}", file=sys.stderr)
        finally:
            if forum is not None:
                forum.close()
        if args.runs:
            for r in bare + full + unjournaled:
                r["rate"] = r["pages"] / r["seconds"]
            print(f"static crawl of a generated forum, {args.pages} pages, median of {args.runs} runs")
            for label, rs in (("bare Scrapy spider", bare), ("linkwatch crawl (store)", full),
                              ("linkwatch, no journal", unjournaled)):
                rate, rss = median(rs, "rate"), median(rs, "rss_mb")
                print(f"  {label:24}{rate:8.1f} pages/s   peak RSS {rss:6.0f} MB")
            print(f"  links stored by linkwatch per run: {full[-1]['links']}")
            ratio = median(full, "rate") / median(bare, "rate")
            extra = median(full, "rss_mb") - median(bare, "rss_mb")
            print(f"  ratio {ratio:.0%} of bare (target >= 80%), memory +{extra:.0f} MB (target <= 100 MB)")
            cost = 1 - median(full, "rate") / median(unjournaled, "rate")
            print(f"  the crawl journal costs {cost:.1%} of pages/s")

        if args.browser_runs:
            browser_bench(args, db, env)
    finally:
        drop_database(admin, name)
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
