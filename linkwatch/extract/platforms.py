"""The platform table: which hosts and paths are open-channel links, and their canonical URLs.

Adding a platform is usually one `Platform(...)` entry with a few `Route`s. Telegram and Matrix
have grammar beyond path patterns (TDLib's rules, matrix.to fragments), so they get a function.
Rules and sources: docs/invite-rules.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from .urls import Parts, query_plus_pairs

# (platform, kind, code, canonical URL)
Found = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Route:
    """A path (or fragment) pattern on a platform's host; group 1 is the code."""

    pattern: str
    kind: str
    canonical: str  # format string; {code} is the code
    part: str = "path"  # "path" (percent-decoded) or "fragment"
    prefix: bool = False  # True: the code is the longest run at the start (discord.js has no end anchor)
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform: the hosts it owns (also with `www.`), allowed schemes, and its link routes."""

    name: str
    hosts: tuple[str, ...]
    routes: tuple[Route, ...] = ()
    schemes: frozenset[str] = frozenset({"", "http", "https"})
    ports: frozenset[int | None] = frozenset({None, 80, 443})
    parse: Callable[[Parts], Found | None] | None = None  # custom grammar instead of routes


# --- Telegram (tdlib/td LinkManager.cpp, test/link.cpp) -------------------------------------------

TG_HOSTS = ("t.me", "telegram.me", "telegram.dog")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# Path words that are never a public username (link types that are not chats, and TDLib's list).
_TG_RESERVED = frozenset(
    (
        "addemoji", "addlist", "addstickers", "addstyle", "addtheme", "auction", "auth", "boost", "call",
        "confirmphone", "contact", "giftcode", "invoice", "joinchat", "login", "m", "nft", "proxy",
        "setlanguage", "share", "socks", "web", "a", "k", "z", "www", "c", "s", "iv", "bg", "msg", "dl",
        "addcall",
    )
)  # fmt: skip


def valid_username(name: str) -> bool:
    """TDLib is_valid_username: letter first, [A-Za-z0-9_], <= 32, no trailing `_`, no `__`."""
    return bool(_USERNAME.fullmatch(name)) and not name.endswith("_") and "__" not in name


def _tg_invite(code: str) -> Found | None:
    if not code or not _B64URL.fullmatch(code) or code.isdigit():
        return None
    return ("telegram", "invite", code, f"https://t.me/+{code}")


def _tg_public(name: str, post: str | None) -> Found | None:
    if not valid_username(name) or name.lower() in _TG_RESERVED:
        return None
    if post is not None and post.isdigit() and int(post) > 0:
        return ("telegram", "message", name, f"https://t.me/{name}/{int(post)}")
    return ("telegram", "public_channel", name, f"https://t.me/{name}")


def _tg_path(segments: list[str]) -> Found | None:
    while len(segments) > 1 and segments[0] == "s":  # web-preview prefix
        segments = segments[1:]
    first = segments[0] if segments else ""
    second = segments[1] if len(segments) > 1 else None
    if first.startswith("+"):
        return _tg_invite(first[1:])
    if first == "joinchat":
        return _tg_invite(second or "")
    if first == "addlist":
        if second and _B64URL.fullmatch(second):
            return ("telegram", "folder", second, f"https://t.me/addlist/{second}")
        return None
    return _tg_public(first, second)


def parse_telegram(p: Parts) -> Found | None:
    """t.me / telegram.me / telegram.dog links, `<name>.t.me`, and `tg:` deep links."""
    if p.scheme == "tg":
        return _parse_tg_scheme(p.rest)
    host = p.host.removeprefix("www.")
    segments = [unquote(s) for s in p.path.split("/")[1:]]
    if host not in TG_HOSTS:
        sub = host[: -len(".t.me")]
        if not host.endswith(".t.me") or len(host) < 9 or "." in sub or sub in _TG_RESERVED:
            return None
        segments = [sub, *segments]
    return _tg_path(segments)


def _parse_tg_scheme(rest: str) -> Found | None:
    action, _, query = rest.partition("?")
    action = action.rstrip("/")
    args = query_plus_pairs(query.split("#", 1)[0])
    if action == "join":
        return _tg_invite(args.get("invite", ""))
    if action == "addlist":
        slug = args.get("slug", "")
        if not _B64URL.fullmatch(slug):
            return None
        return ("telegram", "folder", slug, f"https://t.me/addlist/{slug}")
    if action == "resolve" and "phone" not in args:
        return _tg_public(args.get("domain", ""), args.get("post"))
    return None


# --- Matrix (matrix-org/matrix-spec appendices; element-web linkify-matrix) -----------------------

_MX_ALIAS = re.compile(r"#[^:/#\s]+:[A-Za-z0-9.\-\[\]:]+")
_MX_ROOM = re.compile(r"![^:/#\s]+(?::[A-Za-z0-9.\-\[\]:]+)?")


def _mx_enc(s: str) -> str:
    return quote(s, safe="!$")


def _matrix_found(ident: str, event: str | None) -> Found | None:
    if _MX_ALIAS.fullmatch(ident):
        kind = "room_alias"
    elif _MX_ROOM.fullmatch(ident):
        kind = "room_id"
    else:
        return None  # users (@), groups (+) and junk are not rooms
    if event and event.startswith("$") and len(event) > 1:
        return ("matrix", "message", ident, f"https://matrix.to/#/{_mx_enc(ident)}/{_mx_enc(event)}")
    return ("matrix", kind, ident, f"https://matrix.to/#/{_mx_enc(ident)}")


def _matrix_route(route: str) -> Found | None:
    route = route.split("?", 1)[0]
    parts = [unquote(x) for x in route.split("/") if x]
    if not parts:
        return None
    return _matrix_found(parts[0], parts[1] if len(parts) > 1 else None)


def parse_matrix(p: Parts) -> Found | None:
    """matrix.to/#/<id>[/<event>], Element web `/#/room/<id>`, and `matrix:r/…` / `matrix:roomid/…`."""
    if p.scheme == "matrix":
        bits = p.rest.split("?", 1)[0].split("#", 1)[0].split("/")
        if len(bits) < 2:
            return None
        sigil = {"r": "#", "roomid": "!"}.get(bits[0])
        if sigil is None or not bits[1]:
            return None
        event = "$" + unquote(bits[3]) if len(bits) > 3 and bits[2] == "e" and bits[3] else None
        return _matrix_found(sigil + unquote(bits[1]), event)
    if p.path not in ("", "/") or not p.fragment.startswith("/"):
        return None
    route = p.fragment
    if p.host.endswith("element.io"):
        if not route.startswith("/room/"):
            return None
        route = route[len("/room") :]
    return _matrix_route(route)


# --- Session communities (session-desktop OpenGroupUtils.ts): any host ----------------------------

_SESSION_ROOM = re.compile(r"/[A-Za-z0-9_-]{1,64}")
_SESSION_KEY = re.compile(r"(?:^|&)public_key=([0-9a-fA-F]{64})(?:&|$)")


def parse_session(p: Parts, written: str) -> Found | None:
    """`http(s)://host[:port]/<room>?public_key=<64 hex>`; the code is the complete URL as written."""
    if p.scheme not in ("", "http", "https") or not _SESSION_ROOM.fullmatch(p.path):
        return None
    if not _SESSION_KEY.search(p.query):
        return None
    url = written.strip().split("#", 1)[0]
    scheme, sep, rest = url.partition("://")
    if sep:  # lower-case scheme and host, keep the rest as written
        host, slash, tail = rest.partition("/")
        url = f"{scheme.lower()}://{host.lower()}{slash}{tail}"
    else:
        host, slash, tail = url.partition("/")
        url = f"{host.lower()}{slash}{tail}"
    return ("session", "community", url, url)


# --- LINE scheme (line://<path> == https://line.me/R/<path>) -------------------------------------


def _line_path(path: str) -> str:
    return "/R/" + path.lstrip("/")


PLATFORMS: tuple[Platform, ...] = (
    Platform("telegram", TG_HOSTS, parse=parse_telegram, schemes=frozenset({"", "http", "https", "tg"})),
    Platform(
        "discord",
        ("discord.gg",),
        (Route(r"/(?:invite/)?([A-Za-z0-9_-]{2,255})", "invite", "https://discord.gg/{code}", prefix=True),),
    ),
    Platform(
        "discord",
        ("discord.com", "discordapp.com"),
        (Route(r"/invite/([A-Za-z0-9_-]{2,255})", "invite", "https://discord.gg/{code}", prefix=True),),
    ),
    Platform(
        "kakao",
        ("open.kakao.com",),
        (
            Route(r"/o/([A-Za-z0-9]{4,32})(?:/.*)?", "invite", "https://open.kakao.com/o/{code}"),
            Route(r"/me/([A-Za-z0-9_]{2,64})(?:/.*)?", "open_profile", "https://open.kakao.com/me/{code}"),
        ),
    ),
    Platform(
        "kakao",
        ("pf.kakao.com",),
        (
            Route(
                r"/(_[A-Za-z0-9]{2,32})(?:/(?:chat|friend)?)?",
                "public_channel",
                "https://pf.kakao.com/{code}",
            ),
        ),
    ),
    Platform(
        "line",
        ("line.me",),
        (
            Route(r"(?:/R)?/ti/g/([A-Za-z0-9_-]{6,64})/?", "invite", "https://line.me/R/ti/g/{code}"),
            Route(r"(?:/R)?/ti/g2/([A-Za-z0-9_-]{16,64})/?", "openchat", "https://line.me/ti/g2/{code}"),
        ),
        schemes=frozenset({"", "http", "https", "line"}),
    ),
    Platform(
        "whatsapp",
        ("chat.whatsapp.com",),
        (Route(r"/(?:invite/)?([A-Za-z0-9]{20,24})/?", "invite", "https://chat.whatsapp.com/{code}"),),
    ),
    Platform(
        "whatsapp",
        ("whatsapp.com",),
        (Route(r"/channel/([A-Za-z0-9]{16,40})/?", "public_channel", "https://whatsapp.com/channel/{code}"),),
    ),
    Platform(
        "signal",
        ("signal.group",),
        (Route(r"([A-Za-z0-9_-]+)", "invite", "https://signal.group/#{code}", part="fragment"),),
        schemes=frozenset({"", "https", "sgnl"}),
        ports=frozenset({None, 443}),
    ),
    Platform(
        "matrix",
        ("matrix.to", "app.element.io", "beta.element.io", "staging.element.io", "develop.element.io"),
        parse=parse_matrix,
        schemes=frozenset({"", "http", "https", "matrix"}),
    ),
    Platform(
        "band", ("band.us",), (Route(r"/n/([A-Za-z0-9]{6,32})/?", "invite", "https://band.us/n/{code}"),)
    ),
)

_BY_HOST: dict[str, Platform] = {}
for _p in PLATFORMS:
    for _h in _p.hosts:
        _BY_HOST[_h] = _BY_HOST[f"www.{_h}"] = _p
_BY_SCHEME = {s: p for p in PLATFORMS for s in p.schemes if s not in ("", "http", "https", "sgnl")}

# Every host the table knows: used by the text scanner to find where a URL starts, and by the prefilter.
KNOWN_HOSTS: tuple[str, ...] = tuple(h for p in PLATFORMS for h in p.hosts)


def platform_for(p: Parts) -> Platform | None:
    """The platform owning this URL's host (or `<name>.t.me`), or its opaque scheme."""
    if p.scheme in _BY_SCHEME:
        return _BY_SCHEME[p.scheme]
    plat = _BY_HOST.get(p.host)
    if plat is None and p.host.endswith(".t.me"):
        plat = PLATFORMS[0]
    return plat


def judge(p: Parts, written: str) -> Found | None:
    """Apply the platform table to one parsed URL (no unwrapping); `written` is the URL as written."""
    plat = platform_for(p)
    if plat is None:
        return parse_session(p, written)
    if p.scheme not in plat.schemes or p.port not in plat.ports:
        return None
    if plat.parse is not None:
        return plat.parse(p)
    if p.scheme == "line":
        rest = p.rest.split("#", 1)[0].split("?", 1)[0]
        p = Parts("https", "line.me", None, _line_path(rest), "", "", "")
    for route in plat.routes:
        if route.part == "fragment":
            if p.path not in ("", "/"):
                continue
            target = p.fragment
        else:
            target = unquote(p.path)
        m = route.regex.match(target) if route.prefix else route.regex.fullmatch(target)
        if m:
            code = m.group(1)
            return (plat.name, route.kind, code, route.canonical.format(code=code))
    return None
