"""Pure URL rules for the spider: canonical form, session-id stripping, media extensions, scope."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that carry a session, not content: the same page under a new id is a trap.
SESSION_PARAMS = frozenset(
    {"phpsessid", "sid", "jsessionid", "sessionid", "session_id", "sessid", "aspsessionid", "cfid", "cftoken",
     "zenid", "oscsid", "sess", "session"}
)
# `;jsessionid=…` path parameters (Java servlets) and friends.
_PATH_SESSION = re.compile(r";(?:jsessionid|sid|phpsessid|sessionid)=[^/?#]*", re.I)

MEDIA_EXTENSIONS = frozenset(
    word
    for group in (
        "jpg jpeg jpe jfif png gif webp avif bmp tif tiff ico svg svgz heic heif apng jxl psd raw cr2 nef",
        "mp4 m4v mov avi wmv flv mkv webm mpg mpeg m2ts ts 3gp 3g2 ogv m3u8 mpd f4v vob rm rmvb asf",
        "mp3 m4a aac wav flac ogg oga opus wma amr aiff aif mid midi",
        "woff woff2 ttf otf eot",  # fonts: never needed to read a page
    )
    for word in group.split()
)

MEDIA_TYPES = ("image/", "video/", "audio/")


def strip_session(url: str) -> str:
    """The URL without session-id query or path parameters."""
    url = _PATH_SESSION.sub("", url)
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in SESSION_PARAMS]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def canonical(url: str) -> str:
    """Canonical form used for "seen" checks: session ids stripped, fragment dropped, query sorted."""
    return canonicalize_url(strip_session(url))


def is_media_url(url: str) -> bool:
    """True when the path ends in an image, video, audio or font extension."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    if dot == -1 or "/" in path[dot:]:
        return False
    return path[dot + 1 :] in MEDIA_EXTENSIONS


def is_media_type(content_type: str | bytes | None) -> bool:
    """True for image/*, video/* and audio/* Content-Types."""
    if not content_type:
        return False
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    return content_type.strip().lower().startswith(MEDIA_TYPES)


def host_allowed(host: str | None, domains: list[str]) -> bool:
    """True when host is one of domains or a subdomain of one."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


class Scope:
    """Which URLs a source follows: its domains, allow/deny regexes, never media."""

    def __init__(self, domains: list[str], allow: list[str], deny: list[str]) -> None:
        self.domains = [d.lower() for d in domains]
        self.allow = [re.compile(p) for p in allow]
        self.deny = [re.compile(p) for p in deny]

    def follows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not host_allowed(parts.hostname, self.domains):
            return False
        if is_media_url(url):
            return False
        if any(p.search(url) for p in self.deny):
            return False
        if parts.query and self._leaves_site(parts.query):
            return False
        return not self.allow or any(p.search(url) for p in self.allow)

    def _leaves_site(self, query: str) -> bool:
        """A forum redirector (`/go?url=https%3A%2F%2Ft.me…`): the extractor reads the target from
        the href; fetching it would only be redirected off the site."""
        for _key, value in parse_qsl(query, keep_blank_values=True):
            if value[:8].lower().startswith(("http://", "https://")):
                return not host_allowed(urlsplit(value).hostname, self.domains)
        return False
