"""Split one URL into parts the platform rules judge (scheme, host, port, path, query, fragment)."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote

# Schemes we recognise; anything else before a ':' is read as a scheme-less host (so `t.me:443/x` works).
WEB_SCHEMES = frozenset({"http", "https", "sgnl"})
OPAQUE_SCHEMES = frozenset({"tg", "line", "matrix"})
_SCHEMES = WEB_SCHEMES | OPAQUE_SCHEMES
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,15}):")
_HOST_OK = re.compile(r"[a-z0-9._-]+|\[[0-9a-f:.]+\]")


class Parts(NamedTuple):
    """A parsed URL. `scheme` is "" when absent; `host` is percent-decoded once and lower-cased."""

    scheme: str
    host: str
    port: int | None
    path: str  # still percent-encoded
    query: str
    fragment: str
    rest: str  # for opaque schemes (tg:, line:, matrix:): everything after "scheme:" and any "//"


def split_url(url: str) -> Parts | None:
    """Parse `url` the permissive way TDLib does; None when it cannot be a URL we judge."""
    url = url.strip()
    scheme = ""
    m = _SCHEME.match(url)
    if m and m.group(1).lower() in _SCHEMES:
        scheme = m.group(1).lower()
        url = url[m.end() :]
        if scheme in OPAQUE_SCHEMES:
            rest = url[2:] if url.startswith("//") else url
            return Parts(scheme, "", None, "", "", "", rest)
        if not url.startswith("//"):
            return None  # `http:t.me/x` is rejected (TDLib)
        url = url[2:]
    elif url.startswith("//"):
        url = url[2:]
    frag = ""
    if "#" in url:
        url, frag = url.split("#", 1)
    query = ""
    if "?" in url:
        url, query = url.split("?", 1)
    slash = url.find("/")
    authority, path = (url, "") if slash < 0 else (url[:slash], url[slash:])
    authority = authority.rsplit("@", 1)[-1]
    port: int | None = None
    if ":" in authority and not authority.endswith("]"):
        authority, _, port_s = authority.rpartition(":")
        if not port_s.isdigit() or len(port_s) > 5:
            return None
        port = int(port_s)
    host = (unquote(authority) if "%" in authority else authority).lower().rstrip(".")
    if not host or not _HOST_OK.fullmatch(host):
        return None
    return Parts(scheme, host, port, path, query, frag, "")


def query_values(query: str) -> list[str]:
    """`a=1&b=2` -> [1, 2]: the values, percent-decoded once (`+` stays `+`); keys are not read."""
    return [unquote(item.partition("=")[2]) for item in query.split("&") if item]


def query_plus_pairs(query: str) -> dict[str, str]:
    """Query of a `tg:` link, decoded as TDLib does (`+` means space), first value per key."""
    out: dict[str, str] = {}
    for item in query.split("&"):
        key, _, value = item.partition("=")
        out.setdefault(unquote(key.replace("+", " ")), unquote(value.replace("+", " ")))
    return out
