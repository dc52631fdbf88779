"""Judge one URL, unwrapping forum redirectors (a query value that is itself a URL) to a bounded depth."""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from urllib.parse import unquote

from .platforms import KNOWN_HOSTS, Found, judge
from .urls import query_values, split_url

MAX_DEPTH = 4  # go.php?u=<redirect?to=<t.me…>> nests rarely beyond two levels
MAX_URL = 65536  # longer "URLs" are junk or attacks; never parsed
_LOOKS_URL = re.compile(
    r"(?i)(?:https?|sgnl|tg|line|matrix):|(?:www\.)?(?:[a-z0-9-]+\.)?(?:"
    + "|".join(re.escape(h) for h in KNOWN_HOSTS)
    + r")(?:[/:?#]|$)"
)
_ENCODED_URL = re.compile(r"(?i)(?:https?|tg)%3A")
_B64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")
# Whatever a URL hides is in it as written, unless percent-encoded or in base64: one without a `%`, an
# `aHR0c` and any of these (lower-cased) is no link, nor holds one (a share link's page URL, mostly).
_MARKS = re.compile("|".join(map(re.escape, sorted({*KNOWN_HOSTS, "tg:", "line:", "matrix:", "public_key"}))))


def _may_hold_link(url: str) -> bool:
    return "%" in url or "aHR0c" in url or _MARKS.search(url.lower()) is not None


def _b64_url(value: str) -> str | None:
    """A base64 (standard or url-safe) value that decodes to an http(s) URL, else None."""
    if not _B64.fullmatch(value) or not value.startswith("aHR0c"):
        return None
    raw = value.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        text = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return text if text.startswith(("http://", "https://")) else None


def resolve(url: str, depth: int = 0) -> list[tuple[Found, bool]]:
    """Links in `url`: itself if it is one, else those inside its query values. bool = via redirect."""
    if len(url) > 2048:
        return _resolve(url, depth)
    return list(_resolve_cached(url, depth))


# A page judges the same URL more than once (an href, then the same value read as text), and a site's
# boilerplate (share buttons, its own channel) repeats on every page: a small cache of recent URLs.
@lru_cache(maxsize=512)
def _resolve_cached(url: str, depth: int) -> tuple[tuple[Found, bool], ...]:
    return tuple(_resolve(url, depth))


def _resolve(url: str, depth: int) -> list[tuple[Found, bool]]:
    if len(url) > MAX_URL:
        return []
    parts = split_url(url)
    if parts is None:
        return []
    found = judge(parts, url)
    if found is not None:
        return [(found, depth > 0)]
    if depth >= MAX_DEPTH or not (parts.query or "=" in parts.fragment):
        return []
    out: list[tuple[Found, bool]] = []
    for query in (parts.query, parts.fragment.partition("?")[2] if "=" in parts.fragment else ""):
        for value in query_values(query):
            if _ENCODED_URL.match(value):  # encoded twice at one level: one more decode is the next level
                value = unquote(value)
            inner = value if _LOOKS_URL.match(value) else _b64_url(value)
            if inner and _may_hold_link(inner):
                out.extend((f, True) for f, _ in resolve(inner, depth + 1))
    return out


def parse_url(url: str) -> Found | None:
    """One URL -> (platform, kind, code, canonical URL), unwrapping redirectors; None if not a link."""
    found = resolve(url)
    return found[0][0] if found else None
