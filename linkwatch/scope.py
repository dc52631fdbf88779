"""Pure URL rules for the spider: canonical form, session-id stripping, media extensions, scope."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

from linkwatch.urlrules import same_view_by_slug, slug_section, slugless_path, view_url

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


class ViewIndex:
    """Which URLs of one crawl name a page already fetched: what pages say about themselves.

    A page is known under its view key (`view_key`: canonical URL without sort parameters or a
    first-page marker), the URLs its redirects went through, and its same-host `<link
    rel=canonical>`. Once a page fetched under a slug-less URL names a slugged canonical (or the
    other way round: /topic/5 vs /topic/5-title), that section of the site (/topic/) is known to
    ignore slugs, and its URLs are also matched with the slug removed.
    """

    def __init__(self) -> None:
        self._fetched: set[str] = set()
        self._slugless: set[str] = set()
        self._sections: set[tuple[str, str]] = set()  # (netloc, path prefix) where slugs are decoration
        self._scheduled: dict[str, str] = {}  # slug-less form -> the first view key scheduled with it

    @staticmethod
    def key(url: str) -> str:
        """The view key of a URL (session ids, fragment, sort parameters and ?page=1 dropped)."""
        return canonical(view_url(url))

    def __len__(self) -> int:
        return len(self._fetched)

    def add_fetched(self, url: str, redirected_from: list[str] | tuple[str, ...] = (),
                    canonical_url: str | None = None) -> None:
        """Records a fetched page under every URL it is known by."""
        keys = [self.key(u) for u in (url, *redirected_from)]
        if canonical_url and urlsplit(canonical_url).netloc.lower() == urlsplit(url).netloc.lower():
            keys.append(self.key(canonical_url))
            self._learn_slugs(url, canonical_url)
        for key in keys:
            self._fetched.add(key)
            slugless = self._slugless_key(key)
            if slugless is not None:
                self._slugless.add(slugless)

    def add_scheduled(self, url: str) -> None:
        """Records a page request: a later alias of it (same page without its slug) is not sent."""
        key = self.key(url)
        path = slugless_path(urlsplit(key).path)
        if path is not None:
            self._scheduled.setdefault(urlunsplit(urlsplit(key)._replace(path=path)), key)

    def scheduled_elsewhere(self, url: str) -> bool:
        """True when, in a section known to ignore slugs, the same page was requested under another URL
        (a board links /topic/5-title and, in its mini-pager, /topic/5?page=1)."""
        key = self.key(url)
        slugless = self._slugless_key(key)
        return slugless is not None and self._scheduled.get(slugless, key) != key

    def already_fetched(self, url: str) -> bool:
        """True when the URL names a page this crawl already fetched."""
        key = self.key(url)
        if key in self._fetched:
            return True
        slugless = self._slugless_key(key)
        return slugless is not None and slugless in self._slugless

    def _learn_slugs(self, url: str, canonical_url: str) -> None:
        a, b = urlsplit(url), urlsplit(canonical_url)
        if a.netloc.lower() != b.netloc.lower() or not same_view_by_slug(a.path, b.path):
            return
        section = slug_section(b.path)
        if section is None or (b.netloc.lower(), section) in self._sections:
            return
        self._sections.add((b.netloc.lower(), section))
        for key in self._fetched:  # pages fetched before the lesson are matched slug-less too
            slugless = self._slugless_key(key)
            if slugless is not None:
                self._slugless.add(slugless)

    def _slugless_key(self, key: str) -> str | None:
        if not self._sections:
            return None
        parts = urlsplit(key)
        section = slug_section(parts.path)
        if section is None or (parts.netloc.lower(), section) not in self._sections:
            return None
        path = slugless_path(parts.path)
        return urlunsplit(parts._replace(path=path)) if path is not None else None
