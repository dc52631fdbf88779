"""A phpBB-style board on 127.0.0.1 whose every response carries fresh volatile parts.

Each response has a new `sid=` in its login, who-is-online, board and pager links, new CSRF
tokens in hidden inputs (`form_token`, `creation_time`, `csrf_token`, `sid`), a random online
counter and the render's time ("It is currently …", "Page generated in … seconds"). Posts only
change when a test adds one (`add_post`, `add_topic`), so a re-crawl can tell what really changed.
All codes are made up.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from tests.utils.http import PageSite

POSTS_PER_PAGE = 5


@dataclass
class Post:
    """One post: its board-wide id and its text (HTML-safe, made up)."""

    id: int
    text: str


@dataclass
class Topic:
    """A topic: its title and its posts in order."""

    id: int
    title: str
    posts: list[Post] = field(default_factory=list)

    def pages(self) -> int:
        return max(1, -(-len(self.posts) // POSTS_PER_PAGE))


def code(topic: int, post: int) -> str:
    """The made-up invite code first advertised in post `post` of topic `topic`."""
    return f"PhpbbT{topic}P{post}zq"


class PhpbbBoard(PageSite):
    """`with PhpbbBoard() as board: board.url`; topics 0..n-1 of `posts` posts, every other one with
    a made-up invite link (t.me/+…), the last post of topic 1 repeating topic 0's first code."""

    def __init__(self, topics: int = 6, posts: int = 7) -> None:
        super().__init__()
        self.topics: list[Topic] = []
        self._next_post = 100
        for t in range(topics):
            self.add_topic(f"Synthetic topic {t}", [])
            for n in range(posts):
                self.add_post(t, f"reply {n} in topic {t}, join t.me/+{code(t, n)} now" if n % 2 == 0
                              else f"reply {n} in topic {t}, nothing to see")
        self.add_post(1, f"same again: t.me/+{code(0, 0)}")

    # -- what the board holds ----------------------------------------------------------------------

    def add_topic(self, title: str, texts: list[str]) -> int:
        """A new topic (listed first); returns its id."""
        topic = Topic(len(self.topics), title)
        self.topics.append(topic)
        for text in texts:
            self.add_post(topic.id, text)
        return topic.id

    def add_post(self, topic: int, text: str) -> int:
        """A new post at the end of `topic`; returns its id."""
        self._next_post += 1
        self.topics[topic].posts.append(Post(self._next_post, text))
        return self._next_post

    def topic_page_paths(self, topic: int) -> list[str]:
        """The paths of a topic's pages, as the spider requests them (sid stripped)."""
        pages = self.topics[topic].pages()
        return [f"/viewtopic.php?t={topic}"] + [f"/viewtopic.php?t={topic}&start={i * POSTS_PER_PAGE}"
                                                for i in range(1, pages)]

    # -- rendering ---------------------------------------------------------------------------------

    def page(self, target: str) -> str | None:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        sid = secrets.token_hex(16)
        if parts.path in ("/", "/index.php"):
            return self._frame("Board index", self._index(sid), sid)
        if parts.path == "/viewforum.php":
            return self._frame("Synthetic forum", self._forum(sid), sid)
        if parts.path == "/viewonline.php":
            return self._frame("Who is online", "<h2>Who is online</h2>", sid)
        if parts.path == "/viewtopic.php":
            found = self._find(query)
            if found is None:
                return None
            topic, start = found
            if start < 0 or start >= max(1, len(topic.posts)):
                return None
            return self._frame(topic.title, self._topic(topic, start, sid), sid)
        return None

    def _find(self, query: dict[str, str]) -> tuple[Topic, int] | None:
        """The topic and first post shown for ?t=…&start=… or for a post's permalink ?p=…."""
        try:
            if "p" in query:
                post = int(query["p"])
                for topic in self.topics:
                    for i, p in enumerate(topic.posts):
                        if p.id == post:
                            return topic, i - i % POSTS_PER_PAGE
                return None
            t = int(query.get("t", "-1"))
            start = int(query.get("start", "0"))
        except ValueError:
            return None
        if not 0 <= t < len(self.topics):
            return None
        return self.topics[t], start

    def _index(self, sid: str) -> str:
        last = max(p.id for t in self.topics for p in t.posts)
        return (f'<h2>Forums</h2><ul class="topiclist forums"><li><a href="./viewforum.php?f=1&amp;sid={sid}"'
                f' class="forumtitle">Synthetic forum</a> <span class="lastpost">Last post '
                f'<a href="./viewtopic.php?p={last}&amp;sid={sid}#p{last}">#{last}</a></span></li></ul>')

    def _forum(self, sid: str) -> str:
        rows = "".join(
            f'<li class="row"><a href="./viewtopic.php?t={t.id}&amp;sid={sid}" class="topictitle">'
            f'{t.title}</a>'
            f' <dd class="posts">{len(t.posts) - 1} replies</dd></li>'
            for t in reversed(self.topics)
        )
        return f'<h2>Synthetic forum</h2><ul class="topiclist topics">{rows}</ul>'

    def _topic(self, topic: Topic, start: int, sid: str) -> str:
        shown = topic.posts[start : start + POSTS_PER_PAGE]
        posts = "".join(
            f'<div id="p{p.id}" class="post bg2"><div class="inner"><div class="postbody">'
            f'<h3><a href="#p{p.id}">Re: {topic.title}</a></h3>'
            f'<p class="author">by <span class="username">member{p.id % 7}</span></p>'
            f'<div class="content">{p.text}</div></div></div></div>'
            for p in shown
        )
        pager = " ".join(
            f'<a href="./viewtopic.php?t={topic.id}&amp;sid={sid}&amp;start={i * POSTS_PER_PAGE}">{i + 1}</a>'
            for i in range(topic.pages())
        )
        return (f'<h2 class="topic-title"><a href="./viewtopic.php?t={topic.id}&amp;sid={sid}">{topic.title}'
                f'</a></h2><div class="pagination">Page {start // POSTS_PER_PAGE + 1} of {topic.pages()} '
                f'{pager}</div>{posts}')

    def _frame(self, title: str, content: str, sid: str) -> str:
        now = datetime.now(UTC)
        online = secrets.randbelow(400) + 3
        return (
            f'<!DOCTYPE html><html lang="en-gb"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body id="phpbb"><div class="navbar"><ul class="linklist">'
            f'<li><a href="./index.php?sid={sid}">Board index</a></li>'
            f'<li><a href="./ucp.php?mode=login&amp;sid={sid}" title="Login">Login</a></li>'
            f'<li><a href="./ucp.php?mode=register&amp;sid={sid}">Register</a></li></ul></div>'
            f'<p class="right responsive-center time">It is currently {now:%a %b %d, %Y %I:%M:%S %p}</p>'
            f'<div id="page-body">{content}</div>'
            f'<form method="get" id="search" action="./search.php"><input name="keywords" type="search">'
            f'<input type="hidden" name="sid" value="{sid}" /></form>'
            f'<form method="post" action="./ucp.php?mode=login&amp;sid={sid}" class="headerspace">'
            f'<input type="text" name="username"><input type="hidden" name="creation_time" '
            f'value="{int(now.timestamp())}" /><input type="hidden" name="form_token" '
            f'value="{secrets.token_hex(20)}" /><input type="hidden" name="csrf_token" '
            f'value="{secrets.token_urlsafe(24)}"></form>'
            f'<div class="stat-block online-list"><h3><a href="./viewonline.php?sid={sid}">Who is online</a>'
            f'</h3><p>In total there are {online} users online :: {online // 5} registered, 0 hidden and '
            f'{online - online // 5} guests (based on users active over the past 5 minutes)<br />Most users'
            f' ever online was 912 on Sat Nov 07, 2026 1:12 am</p></div>'
            f'<div class="copyright">Powered by phpBB&reg; Forum Software<br>Page generated in '
            f'{secrets.randbelow(90) / 1000 + 0.01:.4f} seconds</div></body></html>'
        )
