"""Occurrences in an HTML page read only around its candidates, from the page's bytes (no tree).

Most forum pages that mention a messenger hold a handful of candidates (a share link, a footer
channel, `t.me` as a word). This reads the block of text, the tag or the script around each one,
and judges those the way `page.walk` judges the whole tree, with the page offset as the order key.
It returns None where only the tree walk reads the page faithfully (`markup.UnusualMarkupError`, a
`<base>`, a page on a platform host, very many candidates); the caller then walks the tree.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import partial
from itertools import accumulate
from urllib.parse import urljoin

from .markup import Markup, Section, Tag, UnusualMarkupError, Visible
from .page import (
    _MAYBE_ATTR,
    _NO_BASE,
    _REFRESH_URL,
    URL_ATTRS,
    Occurrence,
    base_on_platform,
    context_at,
    context_bounds,
)
from .prefilter import candidates
from .resolve import resolve
from .scan import ANCHOR, Hit, scan

MARGIN = 256  # page bytes read on each side of a candidate, then widened to block boundaries
CONTEXT_SPAN = 3072  # page bytes read on each side for a link's context (context_at uses < 3,000 chars)


def occurrences(raw: bytes, base_url: str | None, special: bool = True) -> list[Occurrence] | None:
    """Occurrences in the HTML page `raw` (UTF-8), or None when the page needs the tree walk.

    `special=False`: the prefilter found no character that stage 1 rewrites in the page."""
    if base_on_platform(base_url):
        return None  # relative links there are invites: every href counts
    found = candidates(raw, special)
    if found is None:
        return None
    if not found:
        return []
    try:
        page = _Page(Markup(raw), base_url)
        if b"<base" in page.mk.low:
            return None
        return page.read(found)
    except UnusualMarkupError:
        return None


class _Page:
    def __init__(self, mk: Markup, base_url: str | None) -> None:
        self.mk = mk
        self.base_url = base_url
        self.out: list[Occurrence] = []

    def read(self, found: list[int]) -> list[Occurrence]:
        mk = self.mk
        sections: dict[int, Section] = {}
        tags: dict[int, Tag] = {}
        windows: list[tuple[int, int]] = []
        for p in found:
            if windows and p < windows[-1][1]:
                continue  # inside the last window of text (a tag or script there was read with it)
            sec = mk.section_at(p)
            if sec is not None and sec.lo <= p < sec.hi:
                sections[sec.start] = sec
                continue
            tag = mk.tag_at(p)
            if tag is not None:
                tags[tag.start] = tag
                continue
            lo = mk.block_before(max(0, p - MARGIN))
            hi = mk.block_after(min(len(mk.raw), p + MARGIN))
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        for lo, hi in windows:  # candidates skipped above may sit in a tag or script of a window
            for p in found[bisect_left(found, lo) : bisect_left(found, hi)]:
                sec = mk.section_at(p)
                if sec is not None and sec.lo <= p < sec.hi:
                    sections[sec.start] = sec
                elif sec is None and (tag := mk.tag_at(p)) is not None:
                    tags[tag.start] = tag
        self._texts([mk.visible(lo, hi) for lo, hi in windows])
        self._attributes(sorted(tags.values(), key=lambda t: t.start))
        self._sections(sorted(sections.values(), key=lambda s: s.start))
        return self.out

    def _context(self, page: int, vis: Visible | None = None) -> str:
        """The visible text around page offset `page`, as the tree walk gives it: read from a span wide
        enough that `context_at` stays inside it (`vis` when it does, else ever wider spans)."""
        mk = self.mk
        for span in (0, CONTEXT_SPAN // 4, CONTEXT_SPAN):
            if span:
                lo = mk.block_before(max(0, page - span))
                hi = mk.block_after(min(len(mk.raw), page + span))
                vis = mk.visible(lo, hi)
            if vis is None:
                continue
            pos = vis.text_offset(page)
            a, b = context_bounds(vis.text, min(max(pos, 0), len(vis.text)))
            if (a > 0 or vis.start == 0) and (b < len(vis.text) or vis.end == len(mk.raw)):
                break
        assert vis is not None
        return context_at(vis.text, pos)

    def _texts(self, spans: list[Visible]) -> None:
        for k, start, hit in scan_each([v.text for v in spans]):
            vis = spans[k]
            at = vis.page_offset(start)
            where = "redirect" if hit.redirect else "text"
            occ = Occurrence(at, hit.found, where, hit.raw, hit.obfuscated, partial(self._context, at, vis))
            self.out.append(occ)

    def _sections(self, sections: list[Section]) -> None:
        texts = [self.mk.raw[sec.lo : sec.hi].decode("utf-8", "replace") for sec in sections]
        for k, start, hit in scan_each(texts):
            sec = sections[k]
            key = sec.lo + len(texts[k][:start].encode())
            where = "redirect" if hit.redirect else "text"
            context = partial(self._context, sec.start)
            self.out.append(Occurrence(key, hit.found, where, hit.raw, hit.obfuscated, context))

    def _attributes(self, tags: list[Tag]) -> None:
        """The tree walk's `_attribute`, for each attribute of these tags; values that may hold a
        disguised link are scanned together."""
        scanned: list[tuple[str, int, Tag]] = []
        for tag in tags:
            if not tag.closing:  # attributes of an end tag are dropped by every parser
                scanned.extend((value, at, tag) for value, at in self._tag(tag))
        for k, start, hit in scan_each([value for value, _, _ in scanned]):
            value, at, tag = scanned[k]
            key = at + start / (len(value) + 1)
            where = "redirect" if hit.redirect else "attr"
            context = partial(self._context, tag.end)
            self.out.append(Occurrence(key, hit.found, where, hit.raw, hit.obfuscated, context))

    def _tag(self, tag: Tag) -> list[tuple[str, int]]:
        """Direct links (URL attributes, meta refresh) of one start tag; the values to scan as text."""
        context = partial(self._context, tag.end)
        attrs = {name: value for name, value, _ in reversed(tag.attrs)}  # the first of a repeated name wins
        seen: set[str] = set()
        scan_these = []
        for name, value, at in tag.attrs:
            if not value or name in seen:
                continue
            seen.add(name)
            if name in URL_ATTRS and ANCHOR.search(value):
                resolved = resolve(urljoin(self.base_url or _NO_BASE, value.strip()))
                if resolved:
                    where = "href" if name == "href" else "attr"
                    for found, redirect in resolved:
                        w = "redirect" if redirect and where == "href" else where
                        self.out.append(Occurrence(at, found, w, value.strip(), False, context))
                    continue
            if _MAYBE_ATTR.search(value) or not value.isascii():
                scan_these.append((value, at))
            if name == "content" and (attrs.get("http-equiv") or "").lower() == "refresh":
                m = _REFRESH_URL.search(value)
                if m and m.group(1).strip():
                    url = m.group(1).strip()
                    for found, _redirect in resolve(urljoin(self.base_url, url) if self.base_url else url):
                        self.out.append(Occurrence(at, found, "meta", url, False, context))
        return scan_these


_SEP = "\n\x00\n"  # between texts scanned together: no link, handle or disguise spans it


def scan_each(texts: list[str]) -> list[tuple[int, int, Hit]]:
    """(index of the text, offset in it, hit) for every hit in `texts`, scanned in one call."""
    if not texts:
        return []
    starts = list(accumulate((len(t) + len(_SEP) for t in texts[:-1]), initial=0))
    out = []
    for hit in scan(_SEP.join(texts)):
        k = bisect_right(starts, hit.start) - 1
        out.append((k, hit.start - starts[k], hit))
    return out
