"""The test forum: a local site with boards, threads, JavaScript pages, traps and (synthetic) media.

Served by a stdlib ThreadingHTTPServer on 127.0.0.1 port 0 in a thread; every request is logged so
tests can assert what was (and was not) fetched. All invite codes are made up (prefix `Lw`).

Besides the original boards (`/`), two sections do what real engines do:
- `/forum/` a classic server-rendered engine: slugged topic URLs with `rel=canonical`, `?page=1`
  aliases, slug-less mini-pager links, per-post permalinks (`/post/<id>`) that redirect to the
  topic, sort-order variants of the member list, login/reply/report/PM links everywhere.
- `/app/` a JavaScript engine: server-rendered boards that React-style redraw themselves from a
  JSON API, a "Show more" button whose XHR answers after a random 50-900 ms, a script call to an
  API path robots.txt disallows, a service worker, favicons (with and without extension), web-app
  manifest icons, prefetch hints, and a server-side pager that is broken without JavaScript (its
  "next" returns page 1) while `<link rel="next">` is right.
And on `/`: UTF-16 pages without a byte-order mark, attachments behind redirects that answer a
(synthetic) PNG labelled image/png, labelled text/html, with no Content-Type, and gzip-encoded.
"""

from __future__ import annotations

import gzip
import html
import json
import random
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
# A PNG signature and header chunk name followed by filler: recognised as PNG by its first bytes, but
# no picture (the filler is zeros or seeded noise, never image data).
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
DISGUISED_BYTES = 4 * 1024 * 1024
FIRST_CHUNK = 64 * 1024
# /attach/file/N redirects to /files/N, which answers the synthetic PNG as:
ATTACHMENTS = {
    7: ("image/png", None),
    8: ("text/html; charset=utf-8", None),
    9: (None, None),  # no Content-Type at all
    10: ("text/html", "gzip"),
}
UTF16_CODES = {"le": "LwUtf16Le1x", "be": "LwUtf16Be1x"}
ICON_PATHS = frozenset({"/favicon.ico", "/icon", "/manifest-icon"})
BROWSER_ONLY_PATHS = ICON_PATHS | {"/manifest.webmanifest", "/prefetched", "/app/sw.js"}
ACCOUNT_PREFIXES = (
    "/login", "/logout", "/register", "/lost-password", "/posting", "/report/", "/pm/", "/new-topic",
    "/ucp.php",
)

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
<link rel="icon" sizes="32x32" href="/icon"><link rel="apple-touch-icon" href="/media/touch.png">
<link rel="manifest" href="/manifest.webmanifest"><link rel="prefetch" href="/prefetched">
<link rel="preload" as="image" href="/media/preload.png">
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
    codes |= set(UTF16_CODES.values())
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
ACCOUNT_CODE = "LwAccount9Abc"  # on every account page: found only if one was fetched


@dataclass
class LoggedRequest:
    method: str
    path: str
    user_agent: str
    body_sent: bool | None = None  # media responses only: did the (whole) body leave the server?
    cookie: str | None = None
    # Sec-Fetch-Mode: Chromium sends it with every request to 127.0.0.1 (a trustworthy origin),
    # linkwatch's own fetches never (it forwards no Sec-* header): set only when Chromium asked itself
    sec_fetch_mode: str | None = None


@dataclass
class ForumState:
    log: list[LoggedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    flaky_hits: int = 0
    slow_seconds: float = 1.5
    huge_bytes: int = 12 * 1024 * 1024
    vendor_bytes: int = 96 * 1024  # /app/static/vendor.js (bench.crawl serves real sizes)
    more_delay: tuple[float, float] = (0.05, 0.9)  # seconds before "Show more" answers


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
{MEDIA_HTML}
{ACCOUNT_LINKS}
<p><a href="/board/utf16le">UTF-16 board</a> <a href="/board/utf16be">UTF-16 (BE) board</a></p>
<p>Attachments: {" ".join(f'<a href="/attach/file/{n}">file {n}</a>' for n in ATTACHMENTS)}</p>""",
    )


ACCOUNT_LINKS = """
<p class="account"><a href="/login?next=%2F">Log in</a> <a href="/register">Register</a>
<a href="/lost-password">Forgot password?</a> <a href="/ucp.php?mode=register">Sign up</a>
<a href="/logout?sid=1">Log out</a></p>
"""


def _account_page(path: str) -> str:
    return _page("Account", f"<form method=post><input name=user></form><p>t.me/+{ACCOUNT_CODE}</p>")


def _utf16_page(order: str) -> bytes:
    code = UTF16_CODES[order]
    text = (
        "<html><head><title>UTF-16 게시판</title></head><body>"
        f"<p>오픈채팅 참여: https://t.me/+{code} 환영합니다</p></body></html>"
    )
    return text.encode("utf-16-le" if order == "le" else "utf-16-be")  # no byte-order mark


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
<p class="account"><a href="/login?next=%2Fthread%2F{thread}">Log in to reply</a>
<a href="/posting?mode=reply&amp;t={thread}">Reply</a> <a href="/report/{thread}{page}">Report</a>
<a href="/pm/new?to=user{thread}">Message the author</a> <a href="/new-topic?board=1">New topic</a></p>
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


def _scroll_board(debounce_ms: int = 0) -> str:
    # debounce_ms: the board answers a scroll only once scrolling has stopped that long, as many
    # engines' infinite lists do (a debounced scroll handler)
    on_scroll = (f"clearTimeout(window.__lwt); window.__lwt = setTimeout(more, {debounce_ms});"
                 if debounce_ms > 0 else "more();")
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
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 50) {{ {on_scroll} }}
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


# -- /forum/: a classic server-rendered engine ------------------------------------------------------

FORUM_BOARDS = 3
FORUM_BOARD_PAGES = 2
TOPICS_PER_BOARD_PAGE = 4
TOPIC_PAGES = 2
POSTS_PER_TOPIC_PAGE = 3
MEMBERS_CODE = "LwMembers1x"


def topic_ids() -> list[int]:
    return [b * 100 + p * 10 + i for b in range(1, FORUM_BOARDS + 1) for p in range(1, FORUM_BOARD_PAGES + 1)
            for i in range(1, TOPICS_PER_BOARD_PAGE + 1)]


def topic_path(topic: int, page: int = 1) -> str:
    """The topic's own (canonical) URL path: slugged, and no ?page for the first page."""
    return f"/topic/{topic}-synthetic-topic-{topic}" + (f"?page={page}" if page > 1 else "")


def board_path(board: int, page: int = 1) -> str:
    return f"/forum/{board}-board-{board}" + (f"?page={page}" if page > 1 else "")


def topic_code(topic: int, page: int) -> str:
    return f"LwTopic{topic}p{page}x"


def post_id(topic: int, page: int, k: int) -> int:
    return topic * 100 + page * 10 + k


def classic_codes() -> set[str]:
    """Codes a static crawl of /forum/ must find."""
    codes = {topic_code(t, p) for t in topic_ids() for p in range(1, TOPIC_PAGES + 1)}
    return codes | {MEMBERS_CODE}


def classic_pages() -> set[str]:
    """The distinct pages of /forum/ (canonical paths): what one request each should fetch."""
    pages = {"/forum/", "/members"}
    pages |= {board_path(b, p) for b in range(1, FORUM_BOARDS + 1) for p in range(1, FORUM_BOARD_PAGES + 1)}
    pages |= {topic_path(t, p) for t in topic_ids() for p in range(1, TOPIC_PAGES + 1)}
    return pages


def _head_canonical(path: str) -> str:
    return f'<link rel="canonical" href="{html.escape(path)}">'


def _forum_index() -> str:
    boards = "".join(f'<li><a href="{board_path(b)}">Board {b}</a></li>' for b in range(1, FORUM_BOARDS + 1))
    latest = post_id(topic_ids()[0], 1, 1)
    return _page(
        "Classic forum",
        f"<ul>{boards}</ul><p>Latest post: <a href='/post/{latest}'>#{latest}</a></p>"
        f"<p><a href='/members'>Members</a></p>{ACCOUNT_LINKS}",
        head=_head_canonical("/forum/"),
    )


def _forum_board(board: int, page: int) -> str:
    rows = []
    for i in range(1, TOPICS_PER_BOARD_PAGE + 1):
        t = board * 100 + page * 10 + i
        mini = " ".join(f'<a href="/topic/{t}?page={p}">{p}</a>' for p in range(1, TOPIC_PAGES + 1))
        rows.append(f'<li><a href="{topic_path(t)}">Topic {t}</a> <span class="mini">{mini}</span></li>')
    pager = " ".join(f'<a href="/forum/{board}-board-{board}?page={p}">{p}</a>'
                     for p in range(1, FORUM_BOARD_PAGES + 1))
    head = _head_canonical(board_path(board, page))
    if page < FORUM_BOARD_PAGES:
        head += f'<link rel="next" href="{board_path(board, page + 1)}">'
    return _page(f"Board {board} page {page}", f"<ul>{''.join(rows)}</ul><p>{pager}</p>{ACCOUNT_LINKS}",
                 head=head)


def _topic(topic: int, page: int) -> str:
    posts = []
    for k in range(1, POSTS_PER_TOPIC_PAGE + 1):
        pid = post_id(topic, page, k)
        text = f"Join: https://t.me/+{topic_code(topic, page)}" if k == 1 else "Thanks for sharing."
        posts.append(
            f'<div class="post" id="p{pid}"><a class="permalink" href="/post/{pid}">#{k}</a> '
            f'<a href="/members?sort=name&amp;order=asc">user{k}</a> <p>{text}</p>'
            f'<a href="/posting?mode=quote&amp;p={pid}">Quote</a> <a href="/report/{pid}">Report</a> '
            f'<a href="/pm/new?to=user{k}">PM</a></div>'
        )
    pager = " ".join(f'<a href="{topic_path(topic)}?page={p}">{p}</a>' for p in range(1, TOPIC_PAGES + 1))
    head = _head_canonical(topic_path(topic, page))
    if page > 1:
        head += f'<link rel="prev" href="{topic_path(topic, page - 1)}">'
    if page < TOPIC_PAGES:
        head += f'<link rel="next" href="{topic_path(topic, page + 1)}">'
    body = (
        f"{ACCOUNT_LINKS}<p><a href='/posting?mode=reply&amp;t={topic}'>Post a reply</a></p>"
        f"{''.join(posts)}<p class='pager'>{pager}</p>"
        f"<p><a href='/members?sort=joined'>Members</a> <a href='/members?order=desc'>newest</a></p>"
    )
    return _page(f"Topic {topic} page {page}", body, head=head)


def _members() -> str:
    sorts = " ".join(f'<a href="/members?{q}">{q}</a>' for q in ("sort=name", "sort=joined&amp;order=desc",
                                                                  "dir=asc", "sort_by=posts"))
    body = f"<p>{sorts}</p><p>user1: t.me/+{MEMBERS_CODE}</p>"
    return _page("Members", body, head=_head_canonical("/members"))


def _topic_route(path: str, query: dict[str, str]) -> tuple[int, int] | None:
    """(topic, page) for /topic/<id>[-any-slug][?page=K], or None."""
    segment = path[len("/topic/"):].split("/", 1)[0]
    number = segment.split("-", 1)[0]
    if not number.isdigit() or int(number) not in topic_ids():
        return None
    try:
        page = int(query.get("page", "1") or 1)
    except ValueError:
        return None
    return (int(number), page) if 1 <= page <= TOPIC_PAGES else None


def _post_target(pid: int) -> str | None:
    topic, rest = divmod(pid, 100)
    page, k = divmod(rest, 10)
    if topic not in topic_ids() or not 1 <= page <= TOPIC_PAGES or not 1 <= k <= POSTS_PER_TOPIC_PAGE:
        return None
    return f"{topic_path(topic, page)}#p{pid}"


# -- /app/: a JavaScript engine ---------------------------------------------------------------------

APP_BOARDS = 10
APP_INDEX_PAGES = 2


def app_ssr_code(board: int) -> str:
    return f"LwAppSsr{board}x"


def app_static_codes() -> set[str]:
    """Codes in /app/'s server-rendered HTML (a static crawl finds them, if it reaches every board)."""
    return {app_ssr_code(b) for b in range(1, APP_BOARDS + 1)}


def app_browser_codes() -> set[str]:
    """Codes only the page's scripts show: from the JSON redraw and from "Show more"."""
    boards = range(1, APP_BOARDS + 1)
    return {f"LwAppJson{b}x" for b in boards} | {f"LwAppMore{b}x" for b in boards}


def app_tracked_code(board: int) -> str:
    """Shown only if the robots-disallowed /app/internal/ answered the page's script."""
    return f"LwAppTracked{board}x"


def _app_head() -> str:
    return ('<link rel="stylesheet" href="/app/static/app.css">'
            '<script src="/app/static/vendor.js"></script><script src="/app/static/app.js" defer></script>')


def _app_index(page: int) -> str:
    per = APP_BOARDS // APP_INDEX_PAGES
    boards = range((page - 1) * per + 1, page * per + 1)
    items = "".join(f'<li><a href="/app/board/{b}">Board {b}</a></li>' for b in boards)
    head = _head_canonical("/app/" + (f"?page={page}" if page > 1 else ""))
    if page < APP_INDEX_PAGES:
        head += f'<link rel="next" href="/app/?page={page + 1}">'
    # Without JavaScript this pager is broken: the server ignores `after` and answers page 1 again.
    nav = '<a class="next" href="/app/?after=cursor-2">next</a>' if page < APP_INDEX_PAGES else ""
    return _page("App forum", f'<ul id="boards">{items}</ul>{nav}', head=head)


def _app_board(board: int) -> str:
    return _page(
        f"App board {board}",
        f"""
<div id="root" data-board="{board}"><ul class="threads"><li>Welcome: https://t.me/+{app_ssr_code(board)}</li></ul></div>
<div id="trk"></div>
<img class="avatar" src="/media/avatar-{board}.jpg" alt=""><img class="avatar" src="/avatar/{board}" alt="">
<p><a href="/attach/file/7">attachment</a></p>""",
        head=_app_head(),
    )


APP_JS = """
(function () {
  const root = document.getElementById('root');
  const board = root.dataset.board;
  const draw = (threads, more) => {
    // React-style: the whole list is drawn again from state, replacing the server's HTML
    root.innerHTML = '<ul class="threads">' + threads.map((t) => '<li>' + t + '</li>').join('') + '</ul>' +
      (more ? '<button class="more">Show more</button>' : '');
    const button = root.querySelector('button.more');
    if (button) button.addEventListener('click', () => {
      button.textContent = 'Loading…';
      const x = new XMLHttpRequest();
      x.open('GET', '/app/api/board/' + board + '/more');
      x.onload = () => { const d = JSON.parse(x.responseText); draw(threads.concat(d.threads), false); };
      x.send();
    });
  };
  fetch('/app/api/board/' + board).then((r) => r.json()).then((d) => draw(d.threads, true));
  // An analytics-style call to a path robots.txt disallows: its answer would show a code.
  fetch('/app/internal/track?b=' + board).then((r) => r.json())
    .then((d) => { document.getElementById('trk').textContent = d.note; }).catch(() => {});
  if (navigator.serviceWorker) navigator.serviceWorker.register('/app/sw.js').catch(() => {});
})();
"""

APP_CSS = "body { background: url(/media/app-bg.png); }\n.threads li { margin: 4px; }\n"


def _vendor_js(size: int) -> bytes:
    # Many small functions, as bundles are: V8 must at least pre-parse all of it.
    parts = ["/* synthetic vendor bundle */\n"]
    n = 0
    total = len(parts[0])
    while total < size:
        line = f"function lwv{n}(a, b) {{ return (a * {n % 97} + b) ^ {n % 31}; }}\n"
        parts.append(line)
        total += len(line)
        n += 1
    parts.append("window.lwVendor = lwv1(2, 3);\n")
    return "".join(parts).encode()


def _app_api(board: int) -> dict:
    join = "https://t.me/+"
    # split, so the code never appears whole in the static JSON either
    api = "From the API: " + join + "LwApp" + f"Json{board}x"
    return {"threads": [f"Welcome: {join}{app_ssr_code(board)}", api]}


def _app_more(board: int) -> dict:
    return {"threads": ["Older thread: https://t.me/+" + "LwApp" + f"More{board}x"]}


MANIFEST = {"name": "Test forum", "icons": [
    {"src": "/media/manifest-192.png", "sizes": "192x192", "type": "image/png"},
    {"src": "/manifest-icon", "sizes": "512x512"},
]}
SERVICE_WORKER = "self.addEventListener('fetch', (e) => e.respondWith(fetch('/media/sw-pixel.png')));"


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
        entry = LoggedRequest(self.command, self.path, self.headers.get("User-Agent", ""),
                              cookie=self.headers.get("Cookie"),
                              sec_fetch_mode=self.headers.get("Sec-Fetch-Mode"))
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
        if ctype.startswith("text/html"):
            # like every forum: a session cookie nobody asked for (linkwatch must never send it back)
            self.send_header("Set-Cookie", f"lwsid={secrets.token_hex(4)}; Path=/; SameSite=Lax")
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

    def _send_disguised(self, entry: LoggedRequest, ctype: str | None, encoding: str | None,
                        head: bool) -> None:
        """The synthetic PNG under another label: the first chunk, then the rest only if the client
        is still there after it (a crawler that reads the first bytes and hangs up gets no more)."""
        rng = random.Random(7)  # seeded noise, so gzip cannot shrink it into one chunk
        payload = PNG_HEAD + rng.randbytes(DISGUISED_BYTES - len(PNG_HEAD))
        if encoding == "gzip":
            payload = gzip.compress(payload, compresslevel=1)
        self.send_response(200)
        if ctype:
            self.send_header("Content-Type", ctype)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Connection", "close")  # no Content-Length: the body ends when the server closes
        self.end_headers()
        self.close_connection = True
        if head:
            entry.body_sent = False
            return
        try:
            self.wfile.write(payload[:FIRST_CHUNK])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionError):
            entry.body_sent = False
            return
        if self._client_gone(3.0):
            entry.body_sent = False
            return
        try:
            self.wfile.write(payload[FIRST_CHUNK:])
            self.wfile.flush()
            entry.body_sent = True
        except (BrokenPipeError, ConnectionError):
            entry.body_sent = False

    def _client_gone(self, wait: float) -> bool:
        readable, _, _ = select.select([self.connection], [], [], wait)
        if not readable:
            return False
        try:
            return self.connection.recv(1, 0x40) == b""  # MSG_DONTWAIT
        except (BlockingIOError, ConnectionError, OSError):
            return True

    def _route(self, head: bool) -> None:
        entry = self._log()
        state: ForumState = self.server.state
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        ext = path[path.rfind("."):].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if (path.startswith(("/media/", "/avatar/")) or path in ICON_PATHS or ext in MEDIA_TYPES):
            return self._send_media(entry, MEDIA_TYPES.get(ext, "image/png"), head)
        if path == "/attach/download":
            return self._send_media(entry, "image/jpeg", head)
        if path.startswith("/attach/file/"):
            n = path.rsplit("/", 1)[1]
            return self._send(302, "", headers={"Location": f"/files/{n}"}, head=head)
        if path.startswith("/files/"):
            n = int(path.rsplit("/", 1)[1]) if path.rsplit("/", 1)[1].isdigit() else 0
            if n not in ATTACHMENTS:
                return self._send(404, "not found", "text/plain", head=head)
            return self._send_disguised(entry, *ATTACHMENTS[n], head)
        if path == "/robots.txt":
            robots = "User-agent: *\nDisallow: /private/\nDisallow: /app/internal/\n"
            return self._send(200, robots, "text/plain", head=head)
        if path.startswith(ACCOUNT_PREFIXES):
            return self._send(200, _account_page(path), head=head)
        if path == "/manifest.webmanifest":
            return self._send(200, json.dumps(MANIFEST), "application/manifest+json", head=head)
        if path in ("/prefetched", "/app/sw.js"):
            return self._send(200, SERVICE_WORKER, "text/javascript", head=head)
        if path.startswith(("/forum/", "/topic/", "/post/", "/members")):
            return self._route_classic(path, query, head)
        if path.startswith("/app/"):
            return self._route_app(path, query, head)
        if path in ("/board/utf16le", "/board/utf16be"):
            return self._send(200, _utf16_page(path[-2:]), "text/html", head=head)
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
            debounce = min(int(query.get("debounce", "0") or 0), 5000)
            return self._send(200, _scroll_board(debounce), head=head)
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

    def _route_classic(self, path: str, query: dict[str, str], head: bool) -> None:
        if path == "/forum/":
            return self._send(200, _forum_index(), head=head)
        if path == "/members":
            return self._send(200, _members(), head=head)
        if path.startswith("/forum/"):
            number = path[len("/forum/"):].split("-", 1)[0]
            page = query.get("page", "1")
            if number.isdigit() and 1 <= int(number) <= FORUM_BOARDS and page in {"1", "2"}:
                return self._send(200, _forum_board(int(number), int(page)), head=head)
        if path.startswith("/topic/"):
            found = _topic_route(path, query)
            if found is not None:
                return self._send(200, _topic(*found), head=head)
        if path.startswith("/post/") and path[6:].isdigit():
            target = _post_target(int(path[6:]))
            if target is not None:
                return self._send(302, "", headers={"Location": target}, head=head)
        return self._send(404, "not found", "text/plain", head=head)

    def _route_app(self, path: str, query: dict[str, str], head: bool) -> None:
        state: ForumState = self.server.state
        if path == "/app/":
            page = query.get("page", "1")
            return self._send(200, _app_index(int(page) if page in ("1", "2") else 1), head=head)
        if path == "/app/static/app.js":
            return self._send(200, APP_JS, "text/javascript", head=head)
        if path == "/app/static/vendor.js":
            return self._send(200, _vendor_js(state.vendor_bytes), "text/javascript", head=head)
        if path == "/app/static/app.css":
            return self._send(200, APP_CSS, "text/css", head=head)
        parts = path.split("/")  # ["", "app", "board"|"api"|"internal", ...]
        board_page = len(parts) == 4 and parts[2] == "board" and parts[3].isdigit()
        if board_page and 1 <= int(parts[3]) <= APP_BOARDS:
            return self._send(200, _app_board(int(parts[3])), head=head)
        if len(parts) >= 5 and parts[2:4] == ["api", "board"] and parts[4].isdigit():
            board = int(parts[4])
            if len(parts) == 6 and parts[5] == "more":
                time.sleep(random.uniform(*state.more_delay))
                return self._send(200, json.dumps(_app_more(board)), "application/json", head=head)
            return self._send(200, json.dumps(_app_api(board)), "application/json", head=head)
        if path == "/app/internal/track":
            note = "tracked: https://t.me/+" + app_tracked_code(int(query.get("b", "0") or 0))
            return self._send(200, json.dumps({"note": note}), "application/json", head=head)
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

    def browser_only_requests(self) -> list[LoggedRequest]:
        """Requests only a browser would make on its own: icons (with or without extension), manifest
        and its icons, prefetch and preload hints, avatars, service workers. Never allowed."""
        return [r for r in self.requests()
                if r.path.startswith(("/media/", "/avatar/")) or r.path.split("?")[0] in BROWSER_ONLY_PATHS]

    def account_requests(self) -> list[LoggedRequest]:
        """Requests for login, register, reply, report, PM… pages (never fetched by default)."""
        return [r for r in self.requests() if r.path.startswith(ACCOUNT_PREFIXES)]

    def from_chromium(self) -> list[LoggedRequest]:
        """Requests Chromium made itself rather than linkwatch (they carry Sec-Fetch-Mode). Never allowed
        in browser mode: Chromium is handed what linkwatch fetched."""
        return [r for r in self.requests() if r.sec_fetch_mode is not None]

    def with_cookies(self) -> list[LoggedRequest]:
        return [r for r in self.requests() if r.cookie]

    def media_bodies(self) -> list[LoggedRequest]:
        """Media responses whose body actually left the server (never allowed in any mode)."""
        return [r for r in self.requests() if r.body_sent]


if __name__ == "__main__":
    with TestForum() as forum:
        print(forum.url, flush=True)
        forum.thread.join()
