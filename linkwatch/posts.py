"""Which post carries a link: the key sightings are counted by ("advertised in N posts").

Forum engines mark each post with its number: `id="p123"` (phpBB), `post_123`/`post_message_123`
(vBulletin), `js-post-123`/`post-123` (XenForo), `data-post-id` (Discourse), `post_123`/`pid_123`
(MyBB), `msg123` (SMF), `elComment_123`/`comment-123` (Invision, WordPress), `c_123` (Gnuboard). A
link inside such an element (the innermost one) was advertised by that post: its key is
`post:<host>/<number>` (board-wide post numbers), or `post:<host>/t<topic>/<number>` where the engine
numbers posts per topic (Discourse's `/t/slug/<topic>` pages). The same post seen again, on a new
version of its page or under another URL (a permalink, a print view), has the same key.

A link no post element holds (a plain-text page, a board without post ids, a banner) gets the
fallback key `page:<page URL without session>#<hash of its context>`: the same text on the same page
seen again adds nothing. Pure: selectolax and the stdlib only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from linkwatch.records import FoundLink
from linkwatch.scope import strip_session
from linkwatch.volatile import stable_body

CONTEXT_CHARS = 150  # each side of the link, for a post's own context
MAX_POST_NODES = 5_000  # a page with more marked elements is read by its first ones only
_POST_ID = re.compile(
    r"^(?:js-)?(?:post|p|pid|msg|message|post_message|post_content|postcontent|postbody|comment|elcomment"
    r"|c|cmt|reply|entry|article)[-_]?(\d{1,12})$"
)
_DATA_ATTRS = ("data-post-id", "data-pid", "data-postid", "data-commentid", "data-comment-id")
_SELECTOR = "[id], " + ", ".join(f"[{a}]" for a in _DATA_ATTRS)
_PER_TOPIC = re.compile(r"^/t/(?:[^/]+/)?(\d{1,12})(?:/|$)")  # Discourse numbers posts per topic
_WS = re.compile(r"\s+")


class LinkLike(Protocol):
    """What post attribution reads of a found link."""

    url: str
    code: str
    raw: str
    context: str


@dataclass(frozen=True, slots=True)
class Carrier:
    """A post that carries a link: its key and the text around the link in it."""

    key: str
    context: str


def post_number(node: Any) -> str | None:
    """The post number an element is marked with, or None."""
    attrs = node.attributes
    for name in _DATA_ATTRS:
        value = (attrs.get(name) or "").strip()
        if value.isdigit() and len(value) <= 12:
            return value.lstrip("0") or "0"
    m = _POST_ID.match((attrs.get("id") or "").strip().lower())
    return (m.group(1).lstrip("0") or "0") if m else None


def post_prefix(page_url: str) -> str:
    """`post:<host>/` (or `post:<host>/t<topic>/` where posts are numbered per topic) for a page."""
    try:
        parts = urlsplit(page_url)
    except ValueError:
        return "post:/"
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port:
        host += f":{parts.port}"
    m = _PER_TOPIC.match(parts.path)
    return f"post:{host}/t{m.group(1)}/" if m else f"post:{host}/"


@lru_cache(maxsize=1024)
def _page_base(page_url: str) -> str:
    """The page URL without session or fragment (cached: a page's links share it)."""
    try:
        return strip_session(page_url.split("#", 1)[0])[:1500]
    except ValueError:
        return page_url[:1500]


def fallback_key(page_url: str, context: str) -> str:
    """The key of a link no post element holds: the page (session stripped) and its context's hash."""
    url = _page_base(page_url)
    stable = stable_body(_WS.sub(" ", context).strip().encode("utf-8", "surrogatepass"))
    return f"page:{url}#{hashlib.sha256(stable).hexdigest()[:16]}"


def _around(text: str, needles: Iterable[str]) -> str:
    for needle in needles:
        i = text.find(needle)
        if i >= 0:
            lo, hi = max(0, i - CONTEXT_CHARS), i + len(needle) + CONTEXT_CHARS
            return _WS.sub(" ", text[lo:hi]).strip()[: 2 * CONTEXT_CHARS + len(needle)]
    return ""


def _needles(link: LinkLike) -> list[list[str]]:
    """What to look for in a post, strongest first: the link as written and its URL; then, only
    when neither is found, its code alone when it is long enough not to be a common word."""
    strong = []
    for value in (link.raw, link.url.split("://", 1)[-1]):
        value = (value or "").strip()
        if len(value) >= 4 and value not in strong:
            strong.append(value)
    code = (link.code or "").strip()
    return [strong, [code] if len(code) >= 8 and code not in strong else []]


def carriers(tree: LexborHTMLParser | None, page_url: str, links: Iterable[LinkLike]) -> list[list[Carrier]]:
    """For each link (in order), the posts that carry it, in document order; [] when no post element
    holds it (the caller then uses fallback_key). Never raises for hostile markup."""
    links = list(links)
    if tree is None or not links:
        return [[] for _ in links]
    try:
        marked = tree.css(_SELECTOR)[:MAX_POST_NODES]
        nodes = [(n, num) for n in marked if (num := post_number(n)) is not None]
    except Exception:  # rule 4: a tree lexbor cannot query gives no posts, not a failed page
        return [[] for _ in links]
    if not nodes:
        return [[] for _ in links]
    prefix = post_prefix(page_url)
    cache: dict[int, tuple[str, str]] = {}

    def content(node: Any) -> tuple[str, str]:
        got = cache.get(node.mem_id)
        if got is None:
            got = (node.html or "", node.text(separator=" ") or "")
            cache[node.mem_id] = got
        return got

    out = []
    for link in links:
        matched: list[tuple[Any, str]] = []
        for needles in _needles(link):
            matched = [(n, num) for n, num in nodes
                       if any(x in content(n)[0] or x in content(n)[1] for x in needles)]
            if matched:
                break
        ids = {n.mem_id for n, _ in matched}
        outer = set()
        for n, _ in matched:
            parent = n.parent
            while parent is not None:
                if parent.mem_id in ids:
                    outer.add(parent.mem_id)
                parent = parent.parent
        found: dict[str, str] = {}
        for n, num in matched:
            if n.mem_id in outer:
                continue
            key = prefix + num
            if key not in found:
                found[key] = _around(content(n)[1], needles)  # the tier that matched
        if len(found) == 1:  # one post: the extractor's own context is the better one
            found = {k: link.context or v for k, v in found.items()}
        out.append([Carrier(k, v or link.context) for k, v in found.items()])
    return out


def found_links(found: Iterable[Any], tree: LexborHTMLParser | None, page_url: str) -> tuple[FoundLink, ...]:
    """The extractor's links as FoundLinks, one per post that carries each (with that post's context);
    a link no post element holds keeps the extractor's context under the page's fallback key."""
    found = list(found)
    out = []
    for link, posts in zip(found, carriers(tree, page_url, found), strict=True):
        base = FoundLink.from_extracted(link)
        if not posts:
            out.append(replace(base, post=fallback_key(page_url, base.context)))
        out.extend(replace(base, post=post.key, context=post.context) for post in posts)
    return tuple(out)
