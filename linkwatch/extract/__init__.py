"""Open-channel link extractor: finds invite links (Telegram, Discord, Kakao, …) in HTML or text.

Pure: stdlib, lxml, google-re2, charset-normalizer and the UTS #39 data of confusable-homoglyphs only (no
Scrapy/Twisted; a test imports it in a fresh process to prove it). Rules: docs/invite-rules.md. The
platform table is `linkwatch.extract.platforms.PLATFORMS`. An HTML page is read around its
candidates (`spans`), the lxml tree walk (`page`) being the reference for the pages that reader
declines.

`where` says how the link was seen. When a link is seen in several places, the strongest wins, in
this order: `href` (an anchor's href names it directly), `meta` (meta refresh), `redirect` (inside
a forum redirector's query value), `attr` (any other attribute: data-href, data-url, title,
onclick, …), `text` (visible text, or script/comment text). `raw`, `where` and `context` come from
that occurrence; a plain (undisguised) occurrence is preferred over a disguised one, and
`obfuscated` is true only when every occurrence was disguised.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import partial

from .charset import decode, utf8_body
from .page import Occurrence, Walked, base_on_platform, context_at, unescape, walk
from .prefilter import NO, SPECIAL, gate, survey, verdict
from .resolve import parse_url
from .scan import Hit, scan
from .shorteners import shortener_urls
from .spans import occurrences

__all__ = ["WHERE", "Link", "decode", "extract", "parse_url", "shortener_urls"]

WHERE = ("href", "meta", "redirect", "attr", "text")  # strongest first
_RANK = {w: i for i, w in enumerate(WHERE)}
_TAG = re.compile(r"<(?:!--|!doctype|/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)", re.IGNORECASE)
_TAG_BYTES = re.compile(_TAG.pattern.encode(), re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Link:
    """One open-channel link found in a page; `url` is its canonical URL."""

    platform: str
    kind: str
    code: str
    url: str
    raw: str
    obfuscated: bool
    where: str
    context: str

    def as_dict(self) -> dict[str, object]:
        """The fields as a plain dict (JSON-ready)."""
        return asdict(self)


def is_html(text: str | bytes, content_type: str | None = None) -> bool:
    """HTML when the content type says so, plain text when it says text/plain, else: has a tag."""
    if content_type:
        ct = content_type.lower()
        if "html" in ct or "xml" in ct:
            return True
        if "text/plain" in ct:
            return False
    rx = _TAG_BYTES if isinstance(text, bytes) else _TAG
    return rx.search(text) is not None  # type: ignore[arg-type]


def _text_occurrences(text: str) -> list[Occurrence]:
    out = []
    for hit in scan(text):
        where = "redirect" if hit.redirect else "text"
        context = partial(context_at, text, hit.start)
        out.append(Occurrence(hit.start, hit.found, where, hit.raw, hit.obfuscated, context))
    return out


_AFTER_DOM = 1e15  # raw-markup occurrences order after every DOM occurrence
_TAGS = re.compile(r"<[^<>]{0,2000}>")


def _raw_occurrences(html: str, walked: Walked) -> list[Occurrence]:
    text = unescape(html)
    out = []
    known = {occ.found[3] for occ in walked.occurrences}
    for hit in scan(text):
        if hit.found[3] in known or _cut_by_markup(hit, text, walked.seen):
            continue  # the DOM already judged it (its `where` stands), or a tag cut the token short
        lt = text.rfind("<", max(0, hit.start - 4096), hit.start)
        in_tag = lt > text.rfind(">", max(0, hit.start - 4096), hit.start)
        where = "redirect" if hit.redirect else ("attr" if in_tag else "text")
        window = _TAGS.sub(" ", text[max(0, hit.start - 600) : hit.end + 600])
        at = window.find(hit.raw) if hit.raw in window else len(window) // 2
        context = partial(context_at, window, at)
        out.append(Occurrence(_AFTER_DOM + hit.start, hit.found, where, hit.raw, hit.obfuscated, context))
    return out


def _cut_by_markup(hit: Hit, text: str, seen: str) -> bool:
    """A raw token that a tag ends (`t.me/+Ab<b>cd</b>`) while the DOM saw it continue: not a link."""
    if not text.startswith("<", hit.end):
        return False
    i = seen.find(hit.raw)
    return i >= 0 and seen[i + len(hit.raw) : i + len(hit.raw) + 1].isalnum()


def _merge(occurrences: list[Occurrence]) -> list[Link]:
    first: dict[str, float] = {}
    best: dict[str, Occurrence] = {}
    plain: dict[str, bool] = {}
    for occ in occurrences:
        url = occ.found[3]
        first[url] = min(first.get(url, occ.key), occ.key)
        plain[url] = plain.get(url, False) or not occ.obfuscated
        cur = best.get(url)
        if cur is None or (occ.obfuscated, _RANK[occ.where], occ.key) < (
            cur.obfuscated,
            _RANK[cur.where],
            cur.key,
        ):
            best[url] = occ
    links = []
    for url in sorted(first, key=first.__getitem__):
        occ = best[url]
        platform, kind, code, canonical = occ.found
        links.append(Link(platform, kind, code, canonical, occ.raw, not plain[url], occ.where, occ.context()))
    return links


def extract(
    content: str | bytes,
    base_url: str | None = None,
    *,
    content_type: str | None = None,
    encoding: str | None = None,
) -> list[Link]:
    """Open-channel links in an HTML page or plain text: one per canonical URL, in order of appearance."""
    on_platform = base_on_platform(base_url)
    text: str | None = None
    if isinstance(content, bytes):
        # UTF-8 pages are prefiltered as bytes: most have no link and are never decoded
        raw = utf8_body(content, content_type, encoding)
        if raw is None:
            text = decode(content, content_type, encoding)  # once: the bytes read below are its UTF-8
            raw = text.encode("utf-8", "surrogatepass")
    else:
        text = content
        raw = text.encode("utf-8", "surrogatepass")
    html = is_html(raw, content_type)
    gated = None if on_platform else gate(raw)
    found: list[int] | None = None
    if gated is None:
        seen = SPECIAL
    elif html:
        seen, found = survey(raw, gated.windows, gated.marks)  # the verdict and where to read, in one
    else:
        seen = verdict(raw, gated.windows)
    if seen == NO:
        return []  # the prefilter proves most pages link-free, at its early-exit cost
    if html and not on_platform:
        spans = occurrences(raw, base_url, found, gated)  # type: ignore[arg-type]  # the candidates' spans
        if spans is not None:
            return _merge(spans)
    if html:
        if text is None:
            text = decode(content, content_type, encoding)
        try:
            walked = walk(text, base_url)
        except Exception:  # rule 4: a page that breaks the HTML walk is still read, as text
            walked = None
        if walked is not None and walked.complete:
            return _merge(walked.occurrences)
        if walked is not None:
            # the parser gave up part of the page (nesting too deep, …): read the raw markup too; links
            # only found there come after the DOM's
            return _merge(walked.occurrences + _raw_occurrences(text, walked))
    if text is None:
        text = decode(content, content_type, encoding)
    # entities are decoded by the scanner's normalisation, so a link written with them keeps its raw form
    return _merge(_text_occurrences(text))
