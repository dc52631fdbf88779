"""A synthetic world for the web console's tests: users, links with Korean and hostile text, a capture that
references every kind of resource, a referral with its files; and a console server on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import uvicorn

from linkwatch.config import Config
from linkwatch.db.users import add_user, create_token
from linkwatch.db.warc import write_response
from linkwatch.web.app import create_app
from linkwatch.web.server import listen, url_of
from tests.utils.crawl import LINKWATCH
from tests.utils.seeding import T0, Seed

PASSWORD = "synthetic-pass-123"  # every test user's password (synthetic data)

# Crawled strings that must stay inert wherever the console shows them.
SCRIPT = "<script>alert('lw-xss')</script>"
SVG = '"><svg onload=alert(1)>'
BIDI = "invite\u202egnp.exe\u202c"
ESCAPES = "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example/\x07click\x1b]8;;\x07"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"open\")"  # a spreadsheet formula in a crawled title
HOSTILE = (SCRIPT, SVG, BIDI, ESCAPES, FORMULA)
KOREAN = "오픈채팅 합성데이터"  # a neutral synthetic phrase searched for in Korean

# A captured page that references images, CSS, scripts, frames, a favicon, media and other hosts, by
# absolute and relative URLs: opening its evidence must make the browser fetch none of them.
EVIDENCE_HTML = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>합성 게시판 thread</title>
<base href="http://base.evil.example/">
<meta http-equiv="refresh" content="5;url=http://refresh.evil.example/">
<link rel="stylesheet" href="http://css.evil.example/a.css">
<link rel="stylesheet" href="/relative/style.css">
<link rel="icon" href="http://icon.evil.example/favicon.ico">
<link rel="preload" href="/relative/preload.js" as="script">
<link rel="prefetch" href="http://prefetch.evil.example/">
<link rel="dns-prefetch" href="//dns.evil.example">
<style>body {{ background: url("http://bg.evil.example/bg.png"); }}
@import url("/relative/import.css");</style>
<script src="http://js.evil.example/x.js"></script>
<script>fetch("http://fetch.evil.example/")</script>
</head>
<body background="/relative/body-bg.png">
<h1>{KOREAN} {SCRIPT}</h1>
<p style="background-image:url(/relative/inline.png)">Join:
<a href="https://t.me/+SynthWebCode01" ping="http://ping.evil.example/">t.me/+SynthWebCode01</a> {SVG}</p>
<img src="http://img.evil.example/a.jpg" alt="synthetic photo">
<img src="/relative/b.jpg" srcset="/relative/b2.jpg 2x, http://img.evil.example/b3.jpg 3x">
<picture><source srcset="http://img.evil.example/c.webp" type="image/webp">
<img src="/relative/c.jpg"></picture>
<video src="http://media.evil.example/v.mp4" poster="/relative/poster.jpg">
<track src="/relative/t.vtt"></video>
<audio src="/relative/a.mp3"></audio>
<object data="http://obj.evil.example/o.swf"></object><embed src="/relative/e.swf">
<iframe src="http://frame.evil.example/"></iframe><iframe srcdoc="<img src='http://srcdoc.evil.example/'>"></iframe>
<svg><image href="http://svg.evil.example/i.png"/></svg>
<form action="http://form.evil.example/"><input type="image" src="/relative/input.png"><input name="q"></form>
<table><tr><td colspan="2">{BIDI}</td></tr></table>
</body></html>
"""


@dataclass
class World:
    """What build_world() made (ids, names, the referral's period and files)."""

    data_dir: Path
    users: dict[str, str] = field(default_factory=dict)  # name -> role
    tokens: dict[str, str] = field(default_factory=dict)  # name -> API token
    links: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    period: str = ""
    files: dict[str, str] = field(default_factory=dict)  # referral file name -> sha256


def capture_page(conn: psycopg.Connection, data_dir: Path, page_id: int, url: str, html: str) -> None:
    """Writes `html` as the page's WARC capture and points the page row at it (digest included)."""
    body = html.encode("utf-8")
    offset, length, digest = write_response(data_dir / "captures" / "test.warc.gz", url, 200,
                                            [("Content-Type", "text/html; charset=utf-8")], body, T0)
    conn.execute("UPDATE pages SET warc_file = %s, warc_offset = %s, warc_length = %s, sha256 = %s, "
                 "content_type = 'text/html; charset=utf-8', bytes = %s WHERE id = %s",
                 ("captures/test.warc.gz", offset, length, digest, len(body), page_id))


def build_world(db: str, data_dir: Path, *, tokens: bool = True, referral: bool = True) -> World:
    """Users of every role, links (Korean and hostile text), sightings with a real capture, checks, a
    review, and a recorded weekly referral with its files."""
    world = World(data_dir)
    seed = Seed(db)
    conn = seed.conn
    for name, role in (("inv", "investigator"), ("ana1", "analyst"), ("ana2", "analyst"),
                       ("reg", "regulator"), ("adm", "admin")):
        add_user(conn, name, role, PASSWORD)
        world.users[name] = role
        if tokens:
            world.tokens[name] = create_token(conn, name)
    run = seed.source(f"forum-{SCRIPT}")
    page = seed.page("http://forum.test/thread/7.html", title=f"합성 게시판 {SVG}", run=run)
    page2 = seed.page("http://forum.test/thread/7-2.html", title="page two", run=run)
    world.pages = {"evidence": page, "second": page2}
    capture_page(conn, data_dir, page, "http://forum.test/thread/7.html", EVIDENCE_HTML)
    hostile = seed.link("SynthWebCode01", score=9.0, preview_title=f"{SCRIPT} {BIDI}", liveness="live",
                        member_count=120)
    korean = seed.link("SynthWebKo02", score=8.0, preview_title=f"{KOREAN} 방")
    reissued = seed.link("SynthWebKo03", score=7.0, preview_title=f"{KOREAN} 방", platform="telegram")
    plain = seed.link("SynthWebPlain04", platform="discord", kind="invite", score=6.0,
                      url="https://discord.gg/SynthWebPlain04", preview_title=FORMULA)
    referred = seed.link("SynthWebRef05", score=5.0, status="confirmed", category="other", liveness="live")
    world.links = {"hostile": hostile, "korean": korean, "reissued": reissued, "plain": plain,
                   "referred": referred}
    seed.sighting(hostile, page, context=f"Join {SCRIPT} t.me/+SynthWebCode01 {SVG} {ESCAPES}",
                  raw="t.me/+SynthWebCode01", run=run)
    seed.sighting(korean, page, context=f"{KOREAN} 입장 t.me/+SynthWebKo02", raw="t.me/+SynthWebKo02",
                  run=run)
    seed.sighting(reissued, page2, context="new code t.me/+SynthWebKo03", raw="t.me/+SynthWebKo03", run=run)
    seed.sighting(plain, page2, context=f"discord {BIDI}", run=run)
    seed.sighting(referred, page, context="referred link t.me/+SynthWebRef05", run=run)
    seed.check(hostile, "live", T0 + timedelta(hours=1), title=f"{SVG} {ESCAPES}")
    conn.execute("INSERT INTO reviews (link_id, reviewer, decision, category, note) "
                 "VALUES (%s, 'ana1', 'confirm', 'other', %s)", (referred, SCRIPT))
    conn.execute("INSERT INTO sighting_texts (sighting_id, link_id, context) "
                 "SELECT id, link_id, context FROM sightings ON CONFLICT DO NOTHING")
    conn.execute("DELETE FROM sighting_text_queue")
    if referral:
        from linkwatch.jobs.report import make_week, weekly

        config = Config(data_dir=data_dir)
        week = make_week(2026, 45, config.zone)  # T0 (2026-11-02) is in ISO week 45
        with psycopg.connect(db, autocommit=True) as rconn:
            result = weekly(rconn, week, data_dir / "reports" / week.period, url=db, tz=config.zone,
                            who="adm", now=T0 + timedelta(days=2), allow_partial=True)
        world.period = week.period
        world.files = dict(result.files)
    seed.close()
    return world


@dataclass
class Console:
    """A running `linkwatch serve` (or in-process server): its URL and the lines it logged."""

    url: str
    log: list[str]


@contextmanager
def serve_subprocess(env: dict[str, str], *args: str, timeout: float = 30) -> Iterator[Console]:
    """`linkwatch serve --port 0` as a child process; yields once it says where it listens.

    Waits on the process's own announcement (a line on stdout), never on a sleep; its stderr (the
    access log) is collected line by line for assertions.
    """
    proc = subprocess.Popen([LINKWATCH, "serve", "--port", "0", *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines: queue.Queue[str] = queue.Queue()
    log: list[str] = []

    def pump(stream, sink) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    pumps = [threading.Thread(target=pump, args=(proc.stdout, lines.put), daemon=True),
             threading.Thread(target=pump, args=(proc.stderr, log.append), daemon=True)]
    for thread in pumps:
        thread.start()
    try:
        url = None
        while url is None:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"linkwatch serve did not start; stderr: {log[-20:]}") from None
            m = re.search(r"linkwatch console on (http://\S+/)", line)
            if m:
                url = m.group(1).rstrip("/")
        yield Console(url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        for thread in pumps:  # the pipes end with the process: the log is complete
            thread.join(10)
        proc.stdout.close()
        proc.stderr.close()


def login(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """Logs `client` in through the login form (its CSRF cookie and field); returns the final response."""
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/"},
                       follow_redirects=True)


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started = started

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets)
        self._started.set()


@contextmanager
def run_console(db: str, data_dir: Path, *, pool_timeout: float = 10,
                **settings: object) -> Iterator[Console]:
    """The console (uvicorn, real HTTP on 127.0.0.1) on `db`; waits for its startup event."""
    config = Config(database_url=db, data_dir=data_dir, **settings)
    sock = listen("127.0.0.1", 0)
    started = threading.Event()
    app = create_app(config, db, pool_size=4, pool_timeout=pool_timeout)
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"), started)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert started.wait(15), "the console did not start"
    try:
        yield Console(url_of(sock).rstrip("/"), [])
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
