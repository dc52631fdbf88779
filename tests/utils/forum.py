"""The test forum: a local site with boards, threads, JavaScript pages, traps and (synthetic) media.

Served by a stdlib ThreadingHTTPServer on 127.0.0.1 port 0 in a thread; every request is logged so
tests can assert what was (and was not) fetched. All invite codes are made up (prefix `Lw`).
"""

from __future__ import annotations

import html
import json
import secrets
import select
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

BOARD_PAGES = 3
THREADS_PER_PAGE = 3
THREAD_PAGES = 2
SCROLL_BATCHES = 3
EUC_KR_TEXT = "텔레그램 오픈채팅 안내 게시판"

MEDIA_TYPES = {
    ".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
    ".ico": "image/x-icon", ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg", ".woff2": "font/woff2",
}
# Tiny synthetic bytes: never a real picture, video or sound.
MEDIA_BYTES = b"LWSYNTHETIC" * 4

MEDIA_HTML = """
<img src="/media/photo.jpg" srcset="/media/photo-2x.jpg 2x, /media/photo-3x.webp 3x" alt="">
<picture><source srcset="/media/pic.webp" type="image/webp"><img src="/media/pic.png"></picture>
<video src="/media/clip.mp4" autoplay muted><source src="/media/clip.webm" type="video/webm"></video>
<audio src="/media/sound.mp3" autoplay><source src="/media/sound.ogg"></audio>
<div style="background-image:url('/media/bg.gif');width:10px;height:10px"></div>
<p>Attached: <a href="/attach/download?id=1">download</a> and <a href="/media/linked.jpg">photo</a></p>
"""

HEAD_MEDIA = """
<meta property="og:image" content="/media/og.jpg">
<link rel="icon" href="/media/icon.png"><link rel="shortcut icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="/media/touch.png">
<style>body { background: url(/media/body-bg.png); }
@font-face { font-family: x; src: url(/media/f.woff2); }</style>
"""


def thread_codes(thread: int, page: int) -> dict[str, str]:
    """The made-up codes shown on one thread page: static ones and the JS-loaded comment's."""
    return {
        "telegram": f"LwT{thread}p{page}Abcdef",
        "discord": f"lwd{thread}p{page}",
        "redirect": f"LwR{thread}p{page}Xyz",
        "comment": f"LwC{thread}p{page}Qrs",
    }


def threads() -> list[int]:
    return [p * 10 + i for p in range(1, BOARD_PAGES + 1) for i in range(1, THREADS_PER_PAGE + 1)]


def static_codes() -> set[str]:
    """Codes any reader sees in the static HTML (and a static crawl must find)."""
    codes = set()
    for t in threads():
        for p in range(1, THREAD_PAGES + 1):
            c = thread_codes(t, p)
            codes |= {c["telegram"], c["discord"], c["redirect"]}
    codes |= {"LwEucKrDecl1", "LwEucKrNoDecl2", "LwSlowPage1", "LwFlakyPage1", "LwIndex0Abc"}
    codes |= {f"LwSess{n}Abc" for n in (1, 2)}
    return codes


def browser_codes() -> set[str]:
    """Codes a reader sees only after JavaScript runs (a browser crawl must find them too)."""
    codes = {thread_codes(t, p)["comment"] for t in threads() for p in range(1, THREAD_PAGES + 1)}
    codes |= {f"LwJsBoard{n}Abc" for n in range(1, 4)}
    codes |= {"LwSpoiler1Abc"}
    codes |= {f"LwScroll{b}n{i}Abc" for b in range(SCROLL_BATCHES + 1) for i in range(2)}
    return codes


PRIVATE_CODE = "LwPrivate9Abc"
HUGE_CODE = "LwHuge9Abc"


@dataclass
class LoggedRequest:
    method: str
    path: str
    user_agent: str
    body_sent: bool | None = None  # media responses only: did the body leave the server?


@dataclass
class ForumState:
    log: list[LoggedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    flaky_hits: int = 0
    slow_seconds: float = 1.5
    huge_bytes: int = 12 * 1024 * 1024


def _page(title: str, body: str, *, head: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!doctype html><html><head>{meta}<title>{html.escape(title)}</title>{head}{HEAD_MEDIA}</head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _index() -> str:
    sid = secrets.token_hex(8)
    return _page(
        "Test forum",
        f"""
<ul>
<li><a href="/board/1?page=1">Free board</a></li>
<li><a href="/board/kr">한국어 게시판</a> <a href="/board/kr-nodecl">(no charset)</a></li>
<li><a href="/jsboard">JavaScript board</a> <a href="/scroll">Infinite board</a></li>
<li><a href="/calendar?month=2026-01">Calendar</a></li>
<li><a href="/sess/page1?PHPSESSID={sid}">Session page</a>
    <a href="/sess/page1;jsessionid={sid}">again</a></li>
<li><a href="/slow">Slow</a> <a href="/flaky">Flaky</a>
    <a href="/huge">Huge</a> <a href="/loop/a">Loop</a></li>
<li><a href="/private/secret">Members</a></li>
<li><a href="mailto:x@example.invalid">mail</a> <a href="javascript:void(0)">js</a></li>
</ul>
<p>Join us: https://t.me/+LwIndex0Abc</p>
{MEDIA_HTML}""",
    )


def _board(page: int) -> str:
    items = "".join(
        f'<li><a href="/thread/{page * 10 + i}?page=1">Thread {page * 10 + i}</a></li>'
        for i in range(1, THREADS_PER_PAGE + 1)
    )
    nav = f'<a href="/board/1?page={page + 1}" rel="next">next</a>' if page < BOARD_PAGES else ""
    return _page(f"Free board page {page}", f"<ul>{items}</ul>{nav}{MEDIA_HTML}")


def _thread(thread: int, page: int) -> str:
    c = thread_codes(thread, page)
    target = quote(f"https://t.me/+{c['redirect']}", safe="")
    nav = f'<a href="/thread/{thread}?page={page + 1}">next page</a>' if page < THREAD_PAGES else ""
    return _page(
        f"Thread {thread} page {page}",
        f"""
<div class="post">Group link: <a href="https://t.me/+{c['telegram']}">https://t.me/+{c['telegram']}</a></div>
<div class="post">Voice chat: discord.gg/{c['discord']}</div>
<div class="post">Mirror: <a href="/go?url={target}">open</a></div>
{nav}
<div id="comments">loading comments…</div>
<script>
fetch('/api/comments?thread={thread}&page={page}').then(r => r.json()).then(d => {{
  const box = document.getElementById('comments');
  box.innerHTML = d.comments.map(c => '<p class="comment">' + c + '</p>').join('');
  box.classList.add('comments-loaded');
}});
</script>
{MEDIA_HTML}""",
    )


def _comments(thread: int, page: int) -> dict:
    code = thread_codes(thread, page)["comment"]
    # Split so the code never appears whole in a static response.
    return {"comments": ["nice", "join " + "https://t.me/+" + code[:3] + "" + code[3:]], "n": 2}


def _jsboard() -> str:
    return _page(
        "JavaScript board",
        """
<ul id="list"></ul>
<button class="spoiler-btn">show spoiler</button><div id="spoiler"></div>
<script>
const host = ['t', 'me'].join('.');
const ul = document.getElementById('list');
for (let n = 1; n <= 3; n++) {
  const li = document.createElement('li');
  li.innerHTML = 'Room ' + n + ': https://' + host + '/+Lw' + 'JsBoard' + n + 'Abc';
  ul.appendChild(li);
}
document.querySelector('.spoiler-btn').addEventListener('click', () => {
  document.getElementById('spoiler').textContent = 'https://' + host + '/+Lw' + 'Spoiler1Abc';
});
</script>""",
    )


def _scroll_board() -> str:
    return _page(
        "Infinite board",
        f"""
<div id="feed"></div>
<script>
let next = 0, busy = false;
async function more() {{
  if (busy || next > {SCROLL_BATCHES}) return;
  busy = true;
  const d = await (await fetch('/api/scroll?batch=' + next)).json();
  const feed = document.getElementById('feed');
  for (const t of d.items) {{
    const p = document.createElement('p'); p.style.height = '900px'; p.textContent = t; feed.appendChild(p);
  }}
  next += 1; busy = false;
}}
more();
window.addEventListener('scroll', () => {{
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 50) more();
}});
</script>""",
    )


def _scroll_batch(batch: int) -> dict:
    return {"items": ["post: https://t.me/+Lw" + f"Scroll{batch}n{i}Abc" for i in range(2)]}


def _calendar(month: str) -> str:
    try:
        year, mon = (int(x) for x in month.split("-"))
    except ValueError:
        year, mon = 2026, 1
    prev_y, prev_m = (year, mon - 1) if mon > 1 else (year - 1, 12)
    next_y, next_m = (year, mon + 1) if mon < 12 else (year + 1, 1)
    return _page(
        f"Calendar {year}-{mon:02d}",
        f'<a href="/calendar?month={prev_y}-{prev_m:02d}">prev</a> '
        f'<a href="/calendar?month={next_y}-{next_m:02d}">next</a>',
    )


def _session_page(n: int) -> str:
    sid = secrets.token_hex(8)
    return _page(
        f"Session page {n}",
        f"<p>t.me/+LwSess{n}Abc</p>"
        f'<a href="/sess/page1?PHPSESSID={sid}">one</a> <a href="/sess/page2?sid={sid}&x=1">two</a> '
        f'<a href="/sess/page2;jsessionid={sid}?x=1">two again</a>',
    )


class Handler(BaseHTTPRequestHandler):
    """Routes the test forum; `self.server.state` holds the log and the trap counters."""

    server_version = "TestForum/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet
        return

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    # -- helpers

    def _log(self) -> LoggedRequest:
        entry = LoggedRequest(self.command, self.path, self.headers.get("User-Agent", ""))
        state: ForumState = self.server.state
        with state.lock:
            state.log.append(entry)
        return entry

    def _send(self, status: int, body: bytes | str, ctype: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None, head: bool = False) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_media(self, entry: LoggedRequest, ctype: str, head: bool) -> None:
        """Headers first; the body only if the client is still there a moment later."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(MEDIA_BYTES)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        if head:
            entry.body_sent = False
            return
        readable, _, _ = select.select([self.connection], [], [], 1.0)
        if readable:
            try:
                gone = self.connection.recv(1, 0x40) == b""  # MSG_DONTWAIT
            except (BlockingIOError, ConnectionError, OSError):
                gone = True
            if gone:
                entry.body_sent = False
                return
        try:
            self.wfile.write(MEDIA_BYTES)
            self.wfile.flush()
            entry.body_sent = True
        except (BrokenPipeError, ConnectionError):
            entry.body_sent = False

    def _route(self, head: bool) -> None:
        entry = self._log()
        state: ForumState = self.server.state
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        ext = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if path.startswith("/media/") or path == "/favicon.ico" or ext in MEDIA_TYPES:
            return self._send_media(entry, MEDIA_TYPES.get(ext, "image/jpeg"), head)
        if path == "/attach/download":
            return self._send_media(entry, "image/jpeg", head)
        if path == "/robots.txt":
            return self._send(200, "User-agent: *\nDisallow: /private/\n", "text/plain", head=head)
        if path == "/":
            return self._send(200, _index(), head=head)
        if path == "/board/1":
            page = max(1, min(BOARD_PAGES, int(query.get("page", "1") or 1)))
            return self._send(200, _board(page), head=head)
        if path.startswith("/thread/"):
            try:
                thread = int(path.rsplit("/", 1)[1])
            except ValueError:
                return self._send(404, "not found", head=head)
            page = int(query.get("page", "1") or 1)
            if thread not in threads() or not 1 <= page <= THREAD_PAGES:
                return self._send(404, "not found", head=head)
            return self._send(200, _thread(thread, page), head=head)
        if path == "/api/comments":
            data = _comments(int(query.get("thread", 0)), int(query.get("page", 1)))
            return self._send(200, json.dumps(data), "application/json", head=head)
        if path == "/api/scroll":
            batch = int(query.get("batch", 0))
            return self._send(200, json.dumps(_scroll_batch(batch)), "application/json", head=head)
        if path == "/board/kr":
            body = f"<html><head><meta charset='euc-kr'><title>{EUC_KR_TEXT}</title></head><body>"
            body += f"<p>{EUC_KR_TEXT}: t.me/+LwEucKrDecl1 입니다</p></body></html>"
            return self._send(200, body.encode("euc-kr"), "text/html; charset=EUC-KR", head=head)
        if path == "/board/kr-nodecl":
            body = f"<html><head><title>{EUC_KR_TEXT}</title></head><body>"
            body += f"<p>{EUC_KR_TEXT} 오픈채팅 참여 링크: "
            body += "https://t.me/+LwEucKrNoDecl2 환영합니다</p></body></html>"
            return self._send(200, body.encode("euc-kr"), "text/html", head=head)
        if path == "/jsboard":
            return self._send(200, _jsboard(), head=head)
        if path == "/scroll":
            return self._send(200, _scroll_board(), head=head)
        if path == "/calendar":
            return self._send(200, _calendar(query.get("month", "2026-01")), head=head)
        if path.startswith("/sess/page"):
            n = 2 if path.startswith("/sess/page2") else 1
            return self._send(200, _session_page(n), head=head)
        if path == "/slow":
            time.sleep(state.slow_seconds)
            return self._send(200, _page("Slow", "<p>t.me/+LwSlowPage1</p>"), head=head)
        if path == "/flaky":
            with state.lock:
                state.flaky_hits += 1
                hits = state.flaky_hits
            if hits == 1:
                return self._send(500, "try again", "text/plain", head=head)
            return self._send(200, _page("Flaky", "<p>t.me/+LwFlakyPage1</p>"), head=head)
        if path == "/huge":
            return self._huge(head)
        if path == "/loop/a":
            return self._send(302, "", headers={"Location": "/loop/b"}, head=head)
        if path == "/loop/b":
            return self._send(302, "", headers={"Location": "/loop/a?again=1"}, head=head)
        if path == "/go":
            return self._send(302, "", headers={"Location": query.get("url", "/")}, head=head)
        if path.startswith("/private/"):
            return self._send(200, _page("Members", f"<p>t.me/+{PRIVATE_CODE}</p>"), head=head)
        return self._send(404, "not found", "text/plain", head=head)

    def _huge(self, head: bool) -> None:
        state: ForumState = self.server.state
        prefix = f"<html><body><p>t.me/+{HUGE_CODE}</p>".encode()
        chunk = b"<p>" + b"x" * 65_000 + b"</p>\n"
        count = state.huge_bytes // len(chunk) + 1
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(prefix) + count * len(chunk)))
        self.end_headers()
        if head:
            return
        try:
            self.wfile.write(prefix)
            for _ in range(count):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionError):
            self.close_connection = True


class TestForum:
    """Runs the forum in a background thread: `with TestForum() as forum: forum.url`."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.state = ForumState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.state = self.state
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> TestForum:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests(self) -> list[LoggedRequest]:
        with self.state.lock:
            return list(self.state.log)

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests() if r.path.startswith(prefix)]

    def media_requests(self) -> list[LoggedRequest]:
        """Requests for URLs that look like media (never allowed from a static crawl)."""
        return [r for r in self.requests() if r.path.startswith("/media/") or r.path == "/favicon.ico"]

    def media_bodies(self) -> list[LoggedRequest]:
        """Media responses whose body actually left the server (never allowed in any mode)."""
        return [r for r in self.requests() if r.body_sent]


if __name__ == "__main__":
    with TestForum() as forum:
        print(forum.url, flush=True)
        forum.thread.join()
