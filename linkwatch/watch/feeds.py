"""Feeds and sitemaps: find them (`<link rel=alternate>`, robots.txt `Sitemap:`) and read them into records.

Pure: bytes in, records out, no network. Every byte is hostile: documents are size-bounded (gzip
too), an entity declaration rejects the document (nothing is ever expanded or fetched: the parser
also runs with entities, DTD loading, network and huge trees off; a DOCTYPE naming an external DTD,
as old RSS 0.91 feeds have, is harmless and allowed), entries are capped, URLs must be
http(s) and of sane length, and anything malformed yields an empty result with a named error
(counted in the caller's Counter when one is given), never an exception.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

MAX_BYTES = 16 * 1024 * 1024  # a sitemap may be 50 MB by the protocol; forums' are far smaller
MAX_ENTRIES = 50_000  # the sitemap protocol's own limit per file
MAX_URL = 2048  # the sitemap protocol's limit on <loc>
MAX_DISCOVERED = 32  # feed or sitemap URLs taken from one page or robots.txt
PAGE_SCAN_BYTES = 512 * 1024  # <link rel=alternate> lives in the head: never parse more of a page
FEED_TYPES = {"application/rss+xml": "rss", "application/atom+xml": "atom"}
# The document kinds `parse` recognises, by their root element's local name.
ROOTS = {"rss": "rss", "RDF": "rss", "feed": "atom", "urlset": "urlset", "sitemapindex": "sitemapindex"}
# An entity declaration, as bytes in the encodings a document may arrive in (XML bombs need one).
_ENTITY = tuple(
    "<!ENTITY".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed advertised by a page: its absolute URL and kind (rss | atom)."""

    url: str
    kind: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed or sitemap: the page it points to and when it last changed (aware) if said."""

    url: str
    updated: datetime | None


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed feed or sitemap. `kind` is rss | atom | urlset | sitemapindex, or "" when unreadable.

    For a sitemap index, `entries` are the child sitemaps. `error` names why the document yielded
    nothing (too_large, gzip, dtd, syntax, not_a_feed); `truncated` says entries were capped.
    `skipped` counts entries dropped for a missing or unusable URL.
    """

    kind: str
    entries: tuple[Entry, ...] = ()
    error: str | None = None
    truncated: bool = False
    skipped: int = 0


# -- discovery ------------------------------------------------------------------------------------


def feeds_in_page(page: bytes | str, base_url: str) -> list[FeedLink]:
    """Feeds a page advertises with `<link rel="alternate" type="application/rss+xml|atom+xml">`."""
    data = page[:PAGE_SCAN_BYTES]
    if not data.strip():
        return []
    try:
        root = lxml_html.fromstring(data)
    except (etree.ParserError, ValueError):
        return []
    found: dict[str, FeedLink] = {}
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").strip().lower().split(";")[0].strip())
        if "alternate" not in rel or kind is None:
            continue
        url = _absolute(link.get("href"), base_url)
        if url and url not in found:
            found[url] = FeedLink(url, kind)
        if len(found) >= MAX_DISCOVERED:
            break
    return list(found.values())


def sitemaps_in_robots(robots: bytes | str, base_url: str) -> list[str]:
    """The `Sitemap:` URLs of a robots.txt (any group; the field applies to the whole file)."""
    text = robots.decode("utf-8", "replace") if isinstance(robots, bytes) else robots
    found: list[str] = []
    for line in text[:PAGE_SCAN_BYTES].splitlines():
        field, sep, value = line.partition(":")
        if not sep or field.strip().lower() != "sitemap":
            continue
        url = _absolute(value.split("#", 1)[0].strip(), base_url)
        if url and url not in found:
            found.append(url)
            if len(found) >= MAX_DISCOVERED:
                break
    return found


# -- parsing --------------------------------------------------------------------------------------


def parse(
    data: bytes,
    base_url: str,
    *,
    errors: Counter[str] | None = None,
    max_bytes: int = MAX_BYTES,
    max_entries: int = MAX_ENTRIES,
) -> Document:
    """Reads RSS 2.0 / RSS 1.0 / Atom / a sitemap urlset / a sitemap index (gzip or not) into records."""
    document = _parse(data, base_url, max_bytes, max_entries)
    if errors is not None and document.error:
        errors[document.error] += 1
    return document


def _parse(data: bytes, base_url: str, max_bytes: int, max_entries: int) -> Document:
    if len(data) > max_bytes:
        return Document("", error="too_large")
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(max_bytes + 1)  # a gzip bomb stops here
        except (OSError, EOFError, zlib.error):
            return Document("", error="gzip")
        if len(data) > max_bytes:
            return Document("", error="too_large")
    if _declares(data):
        return Document("", error="dtd")  # feeds need no entities of their own; XML bombs do
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
        remove_comments=True, remove_pis=True, recover=True, collect_ids=False,
    )  # fmt: skip
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return Document("", error="syntax")
    if root is None or not isinstance(root.tag, str):
        return Document("", error="syntax")
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        return Document("", error="dtd")  # declared in an encoding the byte scan could not read
    kind = ROOTS.get(etree.QName(root).localname)
    if kind is None:
        return Document("", error="not_a_feed")
    if kind == "rss":
        items = (el for el in root.iter() if _local(el) == "item")
        pairs = ((_rss_url(item), _first(item, ("pubDate", "date", "updated", "modified"))) for item in items)
    elif kind == "atom":
        entries = (el for el in root.iter() if _local(el) == "entry")
        pairs = ((_atom_url(entry), _first(entry, ("updated", "published", "modified"))) for entry in entries)
    else:
        tag = "url" if kind == "urlset" else "sitemap"
        nodes = (el for el in root if _local(el) == tag)
        pairs = ((_child_text(node, "loc"), _child_text(node, "lastmod")) for node in nodes)
    out: list[Entry] = []
    skipped, truncated = 0, False
    for raw_url, raw_date in pairs:
        if len(out) >= max_entries:
            truncated = True
            break
        url = _absolute(raw_url, base_url)
        if url is None:
            skipped += 1
            continue
        out.append(Entry(url, parse_date(raw_date)))
    return Document(kind, tuple(out), truncated=truncated, skipped=skipped)


def parse_date(text: str | None) -> datetime | None:
    """An aware datetime from RFC 822 (RSS) or W3C/ISO 8601 (Atom, sitemaps) text; no zone means UTC."""
    if not text:
        return None
    text = text.strip()[:64]
    when: datetime | None = None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}", text):  # W3C datetime allows YYYY-MM
            when = datetime(int(text[:4]), int(text[5:7]), 1) if 1 <= int(text[5:7]) <= 12 else None
        elif re.fullmatch(r"\d{4}", text):
            when = datetime(int(text), 1, 1)
        else:
            try:
                when = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


# -- helpers --------------------------------------------------------------------------------------


def _declares(data: bytes) -> bool:
    """An entity declaration anywhere (a CDATA mention too: a false alarm costs one feed, never a bomb)."""
    return any(marker in data for marker in _ENTITY)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if _local(child) == name:
            return (child.text or "").strip() or None
    return None


def _first(el: etree._Element, names: tuple[str, ...]) -> str | None:
    for name in names:
        text = _child_text(el, name)
        if text:
            return text
    return None


def _rss_url(item: etree._Element) -> str | None:
    link = _child_text(item, "link")
    if link:
        return link
    for child in item:  # an Atom <link href> inside RSS, or a permalink guid
        if _local(child) == "link" and child.get("href"):
            return child.get("href")
        if _local(child) == "guid" and (child.get("isPermaLink") or "true").lower() == "true":
            return (child.text or "").strip() or None
    return None


def _atom_url(entry: etree._Element) -> str | None:
    fallback = None
    for child in entry:
        if _local(child) != "link" or not child.get("href"):
            continue
        rel = (child.get("rel") or "alternate").strip().lower()
        if rel == "alternate":
            return child.get("href")
        fallback = fallback or (child.get("href") if rel not in ("self", "edit", "enclosure") else None)
    return fallback


def _absolute(url: str | None, base_url: str) -> str | None:
    """An http(s) URL of sane length, resolved against the document's URL; None for anything else."""
    if not url:
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL or any(ord(c) < 0x20 for c in url):
        return None
    try:
        joined = urljoin(base_url, url)
        parts = urlsplit(joined)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return joined
