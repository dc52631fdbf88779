"""A forum on 127.0.0.1 that moves on between crawls the way phpBB/vBulletin boards do, driven by the test.

    with MovingForum(boards=4, topics=60) as forum:
        ...crawl forum.url...
        change = forum.advance(new_topics=3, new_replies=5, deep=2)
        ...crawl again; change.codes are the adverts that must be found...

Layout (phpBB-like URLs):
- `/` the board index: each board with its topic/post counts and a link to its last post.
- `/viewforum.php?f=B[&start=K]` a board's listing, `per_page` topics a page, newest activity first
  (boards sort by last post). Each row: the topic link, its reply count, its last-post time and
  links to the topic's pages (page 1 and the last three, and "last post" on the last page).
- `/viewtopic.php?t=ID[&start=K]` a topic, `posts_per_page` posts a page, with a pager.
- with `feeds=True`: `/feed.atom` (Atom) and `/feed.rss` (RSS 2.0) of the most recent posts, and
  `/sitemap.xml` (a sitemap index of one urlset per board, `/sitemap-B.xml`, every listing page 1
  and topic page with its `<lastmod>`), advertised by robots.txt `Sitemap:` and every page's
  `<link rel="alternate">`.
- with `validators=True`: ETag (a hash of the page's stable bytes) and Last-Modified (the newest
  post the page depends on; a topic page depends on its topic's last post because its pager does),
  answering 304 to If-None-Match (which wins, RFC 9110) or If-Modified-Since.
- with `volatile=True`: what phpBB adds to every render: a session id in the login link and a
  "who is online" counter; they never change the ETag (it hashes the stable bytes only).

`advance()` moves the forum on: new topics appear at the top of their board's listing page 1 (older
topics shift down, onto later listing pages); replies are appended to old topics (a new last page
appears when the last one was full; the listing row's reply count and last-post time change and the
topic moves to the top); `deep` replies go to topics listed on page 2+ of their board that have 3+
pages (so the new post is on page 3+). Each new post carries a made-up invite code (prefix `LwMv`,
never a real one) with probability `advert_ratio`; the forum remembers when each advert appeared
(forum clock and wall clock) so a test or bench can compute recall and detection latency.

Memory stays bounded for a 10,000-page forum: posts are arrays of numbers, pages are rendered per
request, and requests are only counted (per URL, per kind, conditional or not, by status; and the
ordinal of each URL's first request, so a benchmark knows when in a crawl each page was fetched).
"""

from __future__ import annotations

import hashlib
import html
import random
import secrets
import threading
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # the forum clock starts here (seconds after it are stored)
FEED_ENTRIES = 50
KINDS = ("index", "listing", "topic", "feed", "sitemap", "robots", "other")
FILLER = (
    "Ordinary chatter about the weekend, the weather and the match.",
    "Has anyone tried the new route along the river? Asking for a friend.",
    "Thanks, that helped. Closing the question.",
    "Same here, it worked after a restart.",
)


def advert_code(post: int) -> str:
    """The made-up invite code a post carries (synthetic: `LwMv` prefix, unique per post)."""
    return f"LwMv{post:07d}Adv"


@dataclass(frozen=True)
class Advert:
    """A post carrying an invite link, and when it appeared."""

    code: str
    post: int
    topic: int
    board: int
    url: str  # the topic page the post is on (path + query; posts never move between pages)
    appeared: datetime  # forum clock
    appeared_wall: float  # time.time() when the forum started serving it


@dataclass
class Change:
    """What one `advance()` did."""

    adverts: list[Advert] = field(default_factory=list)
    new_topics: list[int] = field(default_factory=list)
    replied: list[int] = field(default_factory=list)  # topics that got replies (deep ones included)
    deep: list[int] = field(default_factory=list)
    new_pages: list[str] = field(default_factory=list)  # topic pages that did not exist before

    @property
    def codes(self) -> set[str]:
        return {a.code for a in self.adverts}


class MovingForum:
    """A synthetic phpBB-like forum that changes when the test says so; see the module docstring."""

    def __init__(
        self,
        boards: int = 4,
        topics: int = 60,  # per board, at the start
        *,
        per_page: int = 25,
        posts_per_page: int = 10,
        max_posts: int = 60,  # initial posts per topic are 1..max_posts (skewed towards short topics)
        advert_ratio: float = 0.2,  # for the initial posts; new posts use `new_advert_ratio`
        new_advert_ratio: float = 1.0,
        validators: bool = True,
        feeds: bool = False,
        volatile: bool = False,
        seed: int = 16,
    ) -> None:
        self.per_page, self.posts_per_page = per_page, posts_per_page
        self.validators, self.feeds, self.volatile = validators, feeds, volatile
        self.new_advert_ratio = new_advert_ratio
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.served = threading.Condition(self.lock)
        # posts: parallel arrays indexed by post id
        self.post_topic = array("l")
        self.post_time = array("q")  # seconds after EPOCH
        self.post_advert = bytearray()
        self.post_wall = array("d")
        # topics: parallel lists indexed by topic id; boards: topic ids ordered by last post, newest first
        self.topic_board: list[int] = []
        self.topic_posts: list[array] = []
        self.order: list[list[int]] = [[] for _ in range(boards)]
        self.now = 0  # forum clock, seconds after EPOCH
        self.advances = 0
        self._counts_reset()
        self._build(boards, topics, max_posts, advert_ratio)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @classmethod
    def sized(cls, pages: int, **options: object) -> MovingForum:
        """A forum of about `pages` pages (listing and topic pages): ~10 topic pages a listing page."""
        boards = max(1, min(20, pages // 500))
        # initial topics average ~2.6 pages with the default skew below; listing pages add ~1/25 of topics
        topics = max(2, round(pages / boards / 2.64))
        return cls(boards, topics, **options)  # type: ignore[arg-type]

    # -- building and moving ----------------------------------------------------------------------

    def _new_post(self, topic: int, at: int, advert: bool, wall: float) -> int:
        post = len(self.post_topic)
        self.post_topic.append(topic)
        self.post_time.append(at)
        self.post_advert.append(1 if advert else 0)
        self.post_wall.append(wall)
        self.topic_posts[topic].append(post)
        return post

    def _build(self, boards: int, topics: int, max_posts: int, ratio: float) -> None:
        rng = self.rng
        sequence: list[int] = []  # one entry per post: its topic, then shuffled so activity interleaves
        for b in range(boards):
            for _ in range(topics):
                t = len(self.topic_board)
                self.topic_board.append(b)
                self.topic_posts.append(array("l"))
                n = 1 + int((max_posts - 1) * rng.random() ** 2)
                sequence.extend([t] * n)
        # each topic's first post must come first: keep the first occurrence order random but valid
        rng.shuffle(sequence)
        start = -len(sequence) * 60  # one post a minute, ending at the forum clock's start
        wall = time.time()
        for i, t in enumerate(sequence):
            self._new_post(t, start + i * 60, rng.random() < ratio, wall)
        for b in range(boards):
            ids = [t for t in range(len(self.topic_board)) if self.topic_board[t] == b]
            ids.sort(key=lambda t: self.post_time[self.topic_posts[t][-1]], reverse=True)
            self.order[b] = ids

    def advance(
        self,
        new_topics: int = 0,
        new_replies: int = 0,
        deep: int = 0,
        *,
        reply_to: tuple[int, ...] = (),
        seconds: int = 300,
        posts_per_reply: int = 1,
    ) -> Change:
        """Moves the forum clock `seconds` on and adds posts as described in the module docstring.

        `new_replies` and `deep` count topics (distinct, chosen at random); each gets
        `posts_per_reply` posts. Deep topics are listed on page 2+ of their board with 3+ pages after
        the reply; if too few exist, fewer deep replies are made (`Change.deep` says which).
        `reply_to` names topics that get a reply besides those.
        """
        rng = self.rng
        with self.lock:
            change = Change()
            existing = list(range(len(self.topic_board)))
            chosen = set(reply_to)
            deep_pool = [
                t
                for b in self.order
                for t in b[self.per_page :]
                if t not in chosen and self._pages(len(self.topic_posts[t]) + posts_per_reply) >= 3
            ]
            deep_topics = rng.sample(deep_pool, min(deep, len(deep_pool)))
            rest = sorted(set(existing) - set(deep_topics) - chosen)
            replied = rng.sample(rest, min(new_replies, len(rest))) + list(reply_to)
            # the events, in a random order over the period
            events: list[tuple[str, int]] = [
                ("topic", rng.randrange(len(self.order))) for _ in range(new_topics)
            ]
            events += [("reply", t) for t in replied for _ in range(posts_per_reply)]
            events += [("reply", t) for t in deep_topics for _ in range(posts_per_reply)]
            rng.shuffle(events)
            seconds = max(seconds, 1)
            wall = time.time()
            for i, (what, arg) in enumerate(events):
                at = self.now + 1 + (i * (seconds - 1)) // max(len(events), 1)
                if what == "topic":
                    board, topic = arg, len(self.topic_board)
                    self.topic_board.append(board)
                    self.topic_posts.append(array("l"))
                    change.new_topics.append(topic)
                else:
                    topic = arg
                    board = self.topic_board[topic]
                    self.order[board].remove(topic)
                before = self._pages(len(self.topic_posts[topic]))
                post = self._new_post(topic, at, rng.random() < self.new_advert_ratio, wall)
                self.order[board].insert(0, topic)
                pages = self._pages(len(self.topic_posts[topic]))
                if pages > before:
                    change.new_pages.append(self.topic_url(topic, pages))
                if self.post_advert[post]:
                    change.adverts.append(self.advert(post))
            change.replied = replied + deep_topics
            change.deep = deep_topics
            self.now += seconds
            self.advances += 1
            return change

    # -- what the forum holds ---------------------------------------------------------------------

    def _pages(self, posts: int) -> int:
        return max(1, -(-posts // self.posts_per_page))

    def topic_url(self, topic: int, page: int = 1) -> str:
        if page <= 1:
            return f"/viewtopic.php?t={topic}"
        return f"/viewtopic.php?t={topic}&start={(page - 1) * self.posts_per_page}"

    def listing_url(self, board: int, page: int = 1) -> str:
        if page <= 1:
            return f"/viewforum.php?f={board}"
        return f"/viewforum.php?f={board}&start={(page - 1) * self.per_page}"

    def advert(self, post: int) -> Advert:
        topic = self.post_topic[post]
        index = list(self.topic_posts[topic]).index(post)
        return Advert(
            code=advert_code(post),
            post=post,
            topic=topic,
            board=self.topic_board[topic],
            url=self.topic_url(topic, index // self.posts_per_page + 1),
            appeared=EPOCH + timedelta(seconds=self.post_time[post]),
            appeared_wall=self.post_wall[post],
        )

    def adverts(self) -> list[Advert]:
        """Every advert the forum shows now."""
        with self.lock:
            return [self.advert(p) for p in range(len(self.post_advert)) if self.post_advert[p]]

    def codes(self) -> set[str]:
        with self.lock:
            return {advert_code(p) for p in range(len(self.post_advert)) if self.post_advert[p]}

    def page_urls(self) -> list[str]:
        """Every HTML page (path + query): the index, every listing page and every topic page."""
        with self.lock:
            urls = ["/"]
            for b, ids in enumerate(self.order):
                urls += [
                    self.listing_url(b, p) for p in range(1, self._pages_of(len(ids), self.per_page) + 1)
                ]
            for t, posts in enumerate(self.topic_posts):
                urls += [self.topic_url(t, p) for p in range(1, self._pages(len(posts)) + 1)]
            return urls

    @staticmethod
    def _pages_of(n: int, per: int) -> int:
        return max(1, -(-n // per))

    @property
    def topics(self) -> int:
        return len(self.topic_board)

    @property
    def clock(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)

    # -- counting ---------------------------------------------------------------------------------

    def _counts_reset(self) -> None:
        self.by_url: Counter[str] = Counter()
        self.by_kind: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()  # per kind: requests carrying a validator
        self.not_modified: Counter[str] = Counter()  # per kind: 304s answered
        self.first: dict[str, int] = {}  # URL -> ordinal (0-based) of its first request: the crawl's order
        self.total = 0

    def reset_counts(self) -> None:
        with self.lock:
            self._counts_reset()

    def stats(self) -> dict[str, object]:
        """The request counts since the start or the last `reset_counts()`."""
        with self.lock:
            return {
                "requests": self.total,
                "by_kind": dict(self.by_kind),
                "conditional": dict(self.conditional),
                "not_modified": dict(self.not_modified),
                "urls": len(self.by_url),
            }

    def position(self, url: str) -> int | None:
        """The ordinal (0-based) of the first request for `url` (path + query) since the counts were reset."""
        with self.lock:
            return self.first.get(url)

    def wait_for_requests(self, n: int, timeout: float = 60.0) -> None:
        """Blocks until the forum has served at least n requests in all (an event, not a clock)."""
        with self.served:
            ok = self.served.wait_for(lambda: self.total >= n, timeout)
        assert ok, f"the forum served fewer than {n} requests in {timeout}s"

    # -- serving ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> MovingForum:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def kind(target: str) -> str:
        path = urlsplit(target).path
        return {
            "/": "index",
            "/viewforum.php": "listing",
            "/viewtopic.php": "topic",
            "/feed.atom": "feed",
            "/feed.rss": "feed",
            "/sitemap.xml": "sitemap",
            "/robots.txt": "robots",
        }.get(path, "sitemap" if path.startswith("/sitemap-") else "other")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        forum = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                kind = forum.kind(self.path)
                etag_in = self.headers.get("If-None-Match")
                since_in = self.headers.get("If-Modified-Since")
                with forum.lock:  # a consistent snapshot while the test may be advancing
                    answer = forum.render(self.path)
                status, ctype, body, etag, modified = 404, "text/plain", b"not found", None, None
                if answer is not None:
                    status = 200
                    ctype, stable, modified, extra = answer
                    body = stable + extra
                    etag = f'"{hashlib.sha1(stable).hexdigest()[:16]}"'
                    if forum.validators and _not_modified(etag, modified, etag_in, since_in):
                        status = 304
                with forum.served:
                    forum.first.setdefault(self.path, forum.total)
                    forum.total += 1
                    forum.by_url[self.path] += 1
                    forum.by_kind[kind] += 1
                    if etag_in or since_in:
                        forum.conditional[kind] += 1
                    if status == 304:
                        forum.not_modified[kind] += 1
                    forum.served.notify_all()
                self.send_response(status)
                if answer is not None and forum.validators:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", format_datetime(modified, usegmt=True))
                if status == 304:
                    self.end_headers()
                    return
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    # -- rendering (called with the lock held) ----------------------------------------------------

    def render(self, target: str) -> tuple[str, bytes, datetime, bytes] | None:
        """(content type, stable bytes, last modified, volatile bytes) of a URL, or None (404)."""
        parts = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        try:
            if parts.path == "/":
                return self._html(*self._index())
            if parts.path == "/viewforum.php":
                return self._html(*self._listing(int(q["f"]), int(q.get("start", "0"))))
            if parts.path == "/viewtopic.php":
                return self._html(*self._topic(int(q["t"]), int(q.get("start", "0"))))
            if parts.path == "/robots.txt":
                lines = "User-agent: *\nDisallow: /ucp.php\nDisallow: /posting.php\n"
                if self.feeds:
                    lines += f"Sitemap: {self.url}/sitemap.xml\n"
                return "text/plain", lines.encode(), self._at(self.now), b""
            if self.feeds and parts.path in ("/feed.atom", "/feed.rss"):
                return self._feed(parts.path.endswith("atom"))
            if self.feeds and parts.path == "/sitemap.xml":
                return self._sitemap_index()
            if self.feeds and parts.path.startswith("/sitemap-") and parts.path.endswith(".xml"):
                return self._sitemap(int(parts.path[len("/sitemap-") : -4]))
        except (KeyError, ValueError, IndexError):
            return None
        return None

    @staticmethod
    def _at(seconds: int) -> datetime:
        return EPOCH + timedelta(seconds=seconds)

    def _last(self, topic: int) -> int:
        return self.topic_posts[topic][-1]

    def _html(self, title: str, body: str, modified: int) -> tuple[str, bytes, datetime, bytes]:
        head = ""
        if self.feeds:
            head = (
                '<link rel="alternate" type="application/atom+xml" title="Atom" href="/feed.atom">'
                '<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.rss">'
            )
        stable = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"{head}</head><body><h1>{html.escape(title)}</h1>"
            f'<p class="nav"><a href="/">Board index</a></p>{body}'
        ).encode()
        extra = "</body></html>"
        if self.volatile:
            extra = (
                f'<p class="account"><a href="/ucp.php?mode=login&amp;sid={secrets.token_hex(16)}">'
                "Login</a></p>"
                f"<p>In total there are {secrets.randbelow(400) + 20} users online</p>{extra}"
            )
        return "text/html; charset=utf-8", stable, self._at(modified), extra.encode()

    def _index(self) -> tuple[str, str, int]:
        rows, newest = [], 0
        for b, ids in enumerate(self.order):
            if not ids:
                continue
            last = self._last(ids[0])
            newest = max(newest, self.post_time[last])
            posts = sum(len(self.topic_posts[t]) for t in ids)
            rows.append(
                f'<tr><td><a class="forumtitle" href="{_h(self.listing_url(b))}">Board {b}</a></td>'
                f"<td>{len(ids)} topics</td><td>{posts} posts</td>"
                f'<td>Last post <a href="{_h(self._last_post_href(ids[0]))}">{self._time(last)}</a></td></tr>'
            )
        return "Board index", f"<table>{''.join(rows)}</table>", newest

    def _time(self, post: int) -> str:
        at = self._at(self.post_time[post])
        return f'<time datetime="{at.isoformat()}">{at:%a %b %d, %Y %H:%M}</time>'

    def _last_post_href(self, topic: int) -> str:
        last = self._last(topic)
        return f"{self.topic_url(topic, self._pages(len(self.topic_posts[topic])))}#p{last}"

    def _listing(self, board: int, start: int) -> tuple[str, str, int] | None:
        ids = self.order[board]
        if start < 0 or start % self.per_page or (start and start >= len(ids)):
            raise ValueError(start)
        shown = ids[start : start + self.per_page]
        rows = []
        for t in shown:
            n = len(self.topic_posts[t])
            pages = self._pages(n)
            pager = sorted({1} | set(range(max(2, pages - 2), pages + 1))) if pages > 1 else []
            mini = " ".join(f'<a href="{_h(self.topic_url(t, p))}">{p}</a>' for p in pager)
            rows.append(
                f'<tr class="row"><td><a class="topictitle" href="{_h(self.topic_url(t))}">Topic {t}</a>'
                f' <span class="pagination">{mini}</span></td><td class="posts">{n - 1} replies</td>'
                f'<td class="lastpost">{self._time(self._last(t))} '
                f'<a href="{_h(self._last_post_href(t))}">Go to last post</a></td></tr>'
            )
        page = start // self.per_page + 1
        pages = self._pages_of(len(ids), self.per_page)
        newest = max((self.post_time[self._last(t)] for t in ids[start:]), default=0)
        body = (
            f"<table>{''.join(rows)}</table>{self._pager(lambda p: self.listing_url(board, p), page, pages)}"
        )
        return f"Board {board} - page {page} of {pages}", body, newest

    @staticmethod
    def _pager(url: object, page: int, pages: int) -> str:
        near = sorted({1, page - 1, page + 1, pages} & set(range(1, pages + 1)) - {page})
        links = " ".join(f'<a href="{_h(url(p))}">{p}</a>' for p in near)  # type: ignore[operator]
        nxt = f' <a rel="next" href="{_h(url(page + 1))}">Next</a>' if page < pages else ""  # type: ignore[operator]
        return f'<div class="pagination">Page {page} of {pages}: {links}{nxt}</div>'

    def _topic(self, topic: int, start: int) -> tuple[str, str, int]:
        posts = self.topic_posts[topic]
        if start < 0 or start % self.posts_per_page or (start and start >= len(posts)):
            raise ValueError(start)
        page = start // self.posts_per_page + 1
        pages = self._pages(len(posts))
        items = []
        for p in posts[start : start + self.posts_per_page]:
            text = html.escape(FILLER[p % len(FILLER)])
            if self.post_advert[p]:
                text += f" Join us: https://t.me/+{advert_code(p)}"
            items.append(
                f'<div class="post" id="p{p}"><p class="author">by member{p % 97} {self._time(p)}</p>'
                f'<div class="content">{text}</div></div>'
            )
        board = self.topic_board[topic]
        body = (
            f'<p><a href="{_h(self.listing_url(board))}">Board {board}</a></p>{"".join(items)}'
            f"{self._pager(lambda n: self.topic_url(topic, n), page, pages)}"
        )
        # the pager depends on the topic's length, so the page may change whenever the topic does
        return f"Topic {topic} - page {page} of {pages}", body, self.post_time[self._last(topic)]

    def _recent(self) -> list[int]:
        return list(range(len(self.post_time) - 1, max(-1, len(self.post_time) - 1 - FEED_ENTRIES), -1))

    def _post_href(self, post: int) -> str:
        topic = self.post_topic[post]
        index = list(self.topic_posts[topic]).index(post)
        return f"{self.url}{self.topic_url(topic, index // self.posts_per_page + 1)}#p{post}"

    def _feed(self, atom: bool) -> tuple[str, bytes, datetime, bytes]:
        recent = self._recent()  # posts are numbered in time order, so the last ids are the newest
        newest = self.post_time[recent[0]] if recent else 0
        entries = []
        for p in recent:
            text = html.escape(FILLER[p % len(FILLER)])
            if self.post_advert[p]:
                text += f" Join us: https://t.me/+{advert_code(p)}"
            at, href, title = (
                self._at(self.post_time[p]),
                html.escape(self._post_href(p)),
                f"Topic {self.post_topic[p]}",
            )
            if atom:
                entries.append(
                    f'<entry><title>{title}</title><link href="{href}"/><id>{href}</id>'
                    f'<updated>{at.isoformat()}</updated><content type="html">{html.escape(text)}'
                    "</content></entry>"
                )
            else:
                entries.append(
                    f"<item><title>{title}</title><link>{href}</link><guid>{href}</guid>"
                    f"<pubDate>{format_datetime(at)}</pubDate><description>{html.escape(text)}"
                    "</description></item>"
                )
        if atom:
            doc = (
                '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>Forum</title><id>{self.url}/</id><updated>{self._at(newest).isoformat()}</updated>"
                f'<link href="{self.url}/"/>{"".join(entries)}</feed>'
            )
            ctype = "application/atom+xml"
        else:
            doc = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Forum</title>'
                f"<link>{self.url}/</link>{''.join(entries)}</channel></rss>"
            )
            ctype = "application/rss+xml"
        return ctype, doc.encode(), self._at(newest), b""

    def _sitemap_index(self) -> tuple[str, bytes, datetime, bytes]:
        items, newest = [], 0
        for b, ids in enumerate(self.order):
            last = self.post_time[self._last(ids[0])] if ids else 0
            newest = max(newest, last)
            items.append(
                f"<sitemap><loc>{self.url}/sitemap-{b}.xml</loc>"
                f"<lastmod>{self._at(last).isoformat()}</lastmod></sitemap>"
            )
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{"".join(items)}</sitemapindex>'
        )
        return "application/xml", doc.encode(), self._at(newest), b""

    def _sitemap(self, board: int) -> tuple[str, bytes, datetime, bytes]:
        ids = self.order[board]
        newest = self.post_time[self._last(ids[0])] if ids else 0
        urls = [
            f"<url><loc>{html.escape(self.url + self.listing_url(board))}</loc>"
            f"<lastmod>{self._at(newest).isoformat()}</lastmod></url>"
        ]
        for t in ids:
            posts = self.topic_posts[t]
            for page in range(1, self._pages(len(posts)) + 1):
                last = posts[min(len(posts), page * self.posts_per_page) - 1]
                urls.append(
                    f"<url><loc>{html.escape(self.url + self.topic_url(t, page))}</loc>"
                    f"<lastmod>{self._at(self.post_time[last]).isoformat()}</lastmod></url>"
                )
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{''.join(urls)}</urlset>"
        )
        return "application/xml", doc.encode(), self._at(newest), b""


def _h(url: str) -> str:
    return url.replace("&", "&amp;")


def _not_modified(etag: str, modified: datetime, etag_in: str | None, since_in: str | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; else If-Modified-Since (1 s resolution)."""
    if etag_in is not None:
        tags = {t.strip().removeprefix("W/") for t in etag_in.split(",")}
        return "*" in tags or etag in tags
    if since_in is not None:
        try:
            since = parsedate_to_datetime(since_in)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return modified.replace(microsecond=0) <= since
    return False
