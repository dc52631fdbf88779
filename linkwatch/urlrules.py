"""Pure URL rules for crawling forums: account pages never fetched, and which URLs are the same view."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Account and interaction pages linkwatch never fetches by default: it never logs in, registers,
# replies, posts, reports or writes to anyone, so these pages only cost requests (a real forum
# links /login?next=… from every thread) and some act on a GET. Matched against whole path
# segments (file extension dropped: login.php, register.aspx) and against the value of a
# `mode`/`action`/`do` style parameter (phpBB ucp.php?mode=login, MyBB member.php?action=register,
# SMF index.php?action=post), never against words inside a slug (/topic/5-how-to-login stays).
DEFAULT_ACCOUNT_PAGES: tuple[str, ...] = (
    # log in / out, register
    "login", "log-in", "logon", "signin", "sign-in", "logout", "log-out", "logoff", "signout", "sign-out",
    "register", "registration", "signup", "sign-up", "ucp",
    # password reset
    "lostpassword", "lost-password", "lostpw", "forgot-password", "forgotpassword", "password-reset",
    "reset-password", "resetpassword", "sendpassword", "reminder",
    # reply, new topic, edit, quote
    "reply", "newreply", "new-reply", "post-reply", "postreply", "posting", "quote", "edit",
    # ("post" only as a mode/action value, see _ACTION_ONLY)
    "newthread", "new-thread", "newtopic", "new-topic", "create-topic", "compose", "post",
    # report
    "report", "reporttm", "report-post", "flag",
    # private messages
    "pm", "privmsg", "private", "messages", "conversations", "new-message", "sendmessage", "inbox",
    # GET links that act
    "delete", "like", "unlike", "vote", "subscribe", "unsubscribe", "follow", "unfollow", "bookmark",
    "markread", "mark-read",
)
# Only as a mode/action value (SMF's index.php?action=post): a /post/123 path is a post's permalink.
_ACTION_ONLY = frozenset({"post"})
ACTION_PARAMS = frozenset({"mode", "action", "do", "act", "a", "area", "func", "task"})
_EXTENSION = re.compile(r"\.(?:php\d?|aspx?|jspx?|cgi|pl|html?|do|cfm)$")

# Query parameters that only re-sort or re-order the same list.
SORT_PARAMS = frozenset(
    {"sort", "sortby", "sort_by", "sortorder", "sort_order", "sortdir", "sort_dir", "order", "orderby",
     "order_by", "dir", "direction", "sk", "sd"}
)
# A paginated view's first page is the view itself: ?page=1 (and its spellings), ?start=0.
# (Not `p`: phpBB's ?p=123 is a post.)
_FIRST_PAGE = {"page": "1", "pg": "1", "pageno": "1", "page_no": "1", "pagenum": "1", "paged": "1",
               "start": "0", "offset": "0"}
_PATH_FIRST_PAGE = re.compile(r"/page[-/]1/?$")
# Slugged ids: "5-some-title" (most engines) and "some-title.5" (XenForo).
_SLUG_ID = re.compile(r"^(\d+)-[^/]+$|^[^/]+\.(\d+)$")


def account_words(words: Iterable[str] | None) -> frozenset[str]:
    """The account-page words for a source: its own list, or the default when it gives none."""
    return frozenset(w.strip().lower() for w in (DEFAULT_ACCOUNT_PAGES if words is None else words))


def is_account_page(url: str, words: frozenset[str]) -> bool:
    """True when a path segment, or a mode/action parameter, names an account or posting page."""
    if not words:
        return False
    parts = urlsplit(url)
    for segment in parts.path.lower().split("/"):
        if not segment:
            continue
        bare = _EXTENSION.sub("", segment)
        if (segment in words or bare in words) and bare not in _ACTION_ONLY:
            return True
    if parts.query:
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            # SMF separates its parameters with ";" (index.php?action=post;topic=5)
            if key.lower() in ACTION_PARAMS and value.split(";", 1)[0].strip().lower() in words:
                return True
    return False


def view_url(url: str) -> str:
    """The URL with what does not change the view removed: fragment, sort parameters, first-page markers.

    `?page=1`, `?start=0` and `/page/1` name the view itself; `sort`, `order`, `dir`… only re-order
    it. The other parameters are kept in their order (canonicalising them is the caller's job).
    """
    parts = urlsplit(url)
    path = parts.path
    if _PATH_FIRST_PAGE.search(path):
        path = _PATH_FIRST_PAGE.sub("/", path)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _drops(k.lower(), v.strip())]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _drops(key: str, value: str) -> bool:
    if key in SORT_PARAMS:
        return True
    return _FIRST_PAGE.get(key) == value


def slugless_path(path: str) -> str | None:
    """The path with each slugged id reduced to its number (/topic/5-title -> /topic/5), or None
    when no segment is a slugged id or a bare number."""
    segments = path.split("/")
    changed = False
    out = []
    for segment in segments:
        m = _SLUG_ID.match(segment)
        if m:
            out.append(m.group(1) or m.group(2))
            changed = True
        else:
            out.append(segment)
            changed = changed or segment.isdigit()
    return "/".join(out) if changed else None


def slug_section(path: str) -> str | None:
    """The path up to the first slugged-id or numeric segment (the "/topic/" of /topic/5-title)."""
    segments = path.split("/")
    for i, segment in enumerate(segments):
        if segment.isdigit() or _SLUG_ID.match(segment):
            return "/".join(segments[:i]) + "/"
    return None


def same_view_by_slug(url_path: str, canonical_path: str) -> bool:
    """True when two paths differ only in the slug of an id (/topic/5 and /topic/5-title)."""
    if url_path == canonical_path:
        return False
    a, b = slugless_path(url_path), slugless_path(canonical_path)
    return a is not None and a == b


_POST_ID = re.compile(r"^(?:js-)?(?:post|p|msg|message|comment|reply|entry|pid)[-_]?(\d{1,12})$")
_POST_LINK = re.compile(
    r"(?:^|[/?&_.=-])(?:posts?|pid|msg|message|comments?|reply|entry)[-_/=.]?(\d{1,12})(?!\d)"
)


def post_numbers(ids: Iterable[str], data_ids: Iterable[str] = ()) -> set[str]:
    """Post numbers a page shows, from element ids such as `p123`, `post-123`, `js-post-123` and from
    `data-pid`/`data-post-id` values."""
    found = set()
    for value in ids:
        m = _POST_ID.match(value.strip().lower())
        if m:
            found.add(m.group(1).lstrip("0") or "0")
    for value in data_ids:
        value = value.strip()
        if value.isdigit() and len(value) <= 12:
            found.add(value.lstrip("0") or "0")
    return found


def permalink_number(url: str) -> str | None:
    """The post number a per-post permalink names (/post/123, /posts/123/, ?pid=123), or None."""
    parts = urlsplit(url)
    target = parts.path.lower() + ("?" + parts.query.lower() if parts.query else "")
    last = None
    for m in _POST_LINK.finditer(target):
        last = m.group(1)
    return (last.lstrip("0") or "0") if last else None
