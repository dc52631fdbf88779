"""Occurrences in an HTML page read only around its candidates, from the page's bytes (no tree).

Most forum pages that mention a messenger hold a handful of candidates (a share link, a footer
channel, `t.me` as a word). This reads the block of text, the tag or the script around each one,
and judges those the way `page.walk` judges the whole tree, with the page offset as the order key.
It returns None where only the tree walk reads the page faithfully (`markup.UnusualMarkupError`, a
`<base>`, a page on a platform host, very many candidates); the caller then walks the tree.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
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
from .prefilter import Gated, has_base
from .resolve import resolve
from .scan import ANCHOR, Hit, scan

_SEPARATORS = frozenset("./+:／＋")
CONTEXT_SPAN = 3072  # page bytes read on each side for a link's context (context_at uses < 3,000 chars)
_AHEAD = 2  # a context's span reaches this many times further after the link than before it
# Read first on each side of a link for its context: context_at's line and neighbours rarely need more
# (the near-miss benchmark's 488 contexts: at most 313 bytes on either side). Wider is read when not.
_NEAR = 320
_CLUSTER = 2 * _NEAR  # contexts wanted this close together are read from one span


def occurrences(
    raw: bytes, base_url: str | None, found: list[int] | None, gated: Gated
) -> list[Occurrence] | None:
    """Occurrences in the HTML page `raw` (UTF-8) read around the candidate offsets `found`
    (`prefilter.survey`), or None when the page needs the tree walk. `gated`: `prefilter.gate(raw)`."""
    if base_on_platform(base_url):
        return None  # relative links there are invites: every href counts
    if found is None:
        return None
    if not found:
        return []
    if has_base(raw, gated.windows):
        return None
    try:
        return _Page(Markup(raw, gated.sections), base_url).read(found)
    except UnusualMarkupError:
        return None


class _Page:
    def __init__(self, mk: Markup, base_url: str | None) -> None:
        self.mk = mk
        self.base_url = base_url
        self.out: list[Occurrence] = []
        self._visible: dict[tuple[int, int], Visible] = {}
        self._wide: list[Visible] = []  # spans read for contexts
        self._wanted: list[int] = []  # page offsets whose context may be asked for
        self._clusters: list[tuple[int, int]] | None = None

    def visible(self, lo: int, hi: int) -> Visible:
        """`Markup.visible`, each span read once (widening a block and reading a context ask again)."""
        vis = self._visible.get((lo, hi))
        if vis is None:
            vis = self._visible[lo, hi] = self.mk.visible(lo, hi)
        return vis

    def read(self, found: list[int]) -> list[Occurrence]:
        mk = self.mk
        sections: dict[int, Section] = {}
        tags: dict[int, tuple[Tag, Visible | None]] = {}
        windows: list[tuple[int, int]] = []
        for p in found:
            if windows and p < windows[-1][1]:
                continue  # inside the last window of text: placed below
            sec = mk.section_at(p)
            if sec is not None and sec.lo <= p < sec.hi:
                sections[sec.start] = sec
                continue
            tag = mk.tag_at(p)
            if tag is not None:
                tags[tag.start] = (tag, None)
                continue
            lo, hi = self._block(p)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        spans = [self.visible(lo, hi) for lo, hi in windows]
        for vis in spans:  # candidates in a tag or script inside a window of text
            for p in found[bisect_left(found, vis.start) : bisect_left(found, vis.end)]:
                sec = mk.section_at(p)
                if sec is not None and sec.lo <= p < sec.hi:
                    sections[sec.start] = sec
                elif sec is None and (tag := mk.tag_at(p)) is not None:
                    tags[tag.start] = (tag, vis)  # its context is read from the window
        # every piece of text is scanned in one call: the scanner's cost is mostly per call
        texts: list[str] = [vis.text for vis in spans]
        origins: list[tuple[str, object, int]] = [("text", vis, 0) for vis in spans]
        for tag, vis in sorted(tags.values(), key=lambda tv: tv[0].start):
            if not tag.closing:  # attributes of an end tag are dropped by every parser
                for value, at in self._tag(tag, vis):
                    texts.append(value)
                    origins.append(("attr", (tag, vis), at))
        for sec in sorted(sections.values(), key=lambda s: s.start):
            texts.append(mk.raw[sec.lo : sec.hi].decode("utf-8", "replace"))
            origins.append(("section", sec, sec.lo))
        for k, start, hit in scan_each(texts):
            kind, origin, at = origins[k]
            if kind == "text":
                vis = origin  # type: ignore[assignment]
                key: float = vis.page_offset(start)
                where = "redirect" if hit.redirect else "text"
                context = self._context_at(int(key), vis)
            elif kind == "attr":
                tag, vis = origin  # type: ignore[misc]
                key = at + start / (len(texts[k]) + 1)
                where = "redirect" if hit.redirect else "attr"
                context = self._context_at(tag.end, vis)
            else:
                key = at + len(texts[k][:start].encode())
                where = "redirect" if hit.redirect else "text"
                context = self._context_at(origin.start)  # type: ignore[union-attr]
            self.out.append(Occurrence(key, hit.found, where, hit.raw, hit.obfuscated, context))
        return self.out

    def _block(self, p: int) -> tuple[int, int]:
        """The block of text holding offset `p`, widened to its neighbours (up to four on each side)
        while it is short or begins or ends with a separator: a disguise broken over lines (`t<br>.<br>
        me<br>/<br>+…`) spans blocks, as it does in the tree walk's visible text."""
        mk = self.mk
        lo, hi = mk.block_before(p), mk.block_after(p)
        for _ in range(4):
            text = self.visible(lo, hi).text.strip()
            if len(text) > 8 and text[0] not in _SEPARATORS and text[-1] not in _SEPARATORS:
                break
            wider = (mk.block_before(lo) if lo else lo, mk.block_after(hi) if hi < len(mk.raw) else hi)
            if wider == (lo, hi):
                break
            lo, hi = wider
        return lo, hi

    def _context_at(self, page: int, vis: Visible | None = None) -> partial[str]:
        """The context of page offset `page`, computed when asked for (only a link's best occurrence's is)."""
        self._wanted.append(page)
        return partial(self._context, page, vis)

    def _cluster_spans(self) -> list[tuple[int, int]]:
        """One span around each run of wanted contexts lying close together: read once for all of them
        (a post with ten links would otherwise read its text ten times over)."""
        out: list[tuple[int, int]] = []
        first = last = -1
        for page in [*sorted(self._wanted), -1]:
            if page >= 0 and first >= 0 and page - last <= _CLUSTER:
                last = page
                continue
            if first >= 0 and last > first:  # a run of one is read as before
                mk = self.mk
                lo, hi = max(0, first - _NEAR), min(len(mk.raw), last + _NEAR)
                out.append((mk.block_before(lo), mk.block_after(hi)))
            first = last = page
        return out

    def _context(self, page: int, vis: Visible | None = None) -> str:
        """The visible text around page offset `page`, as the tree walk gives it: read from a span wide
        enough that `context_at` stays inside it (`vis`, or a span read for an earlier link, when it
        does; else ever wider spans). Where it stays inside, every span gives the same context."""
        mk = self.mk
        earlier = [v for v in reversed(self._wide) if v.start <= page < v.end]
        for known in ([vis] if vis is not None else []) + earlier:
            pos = known.text_offset(page)
            if bounds := self._holds(known, pos):
                return context_at(known.text, pos, bounds)
        if self._clusters is None:
            self._clusters = self._cluster_spans()
        for lo, hi in self._clusters:
            if lo <= page < hi:
                known = self.visible(lo, hi)
                self._wide.append(known)
                pos = known.text_offset(page)
                if bounds := self._holds(known, pos):
                    return context_at(known.text, pos, bounds)
        for span, ahead in ((_NEAR, 1), (CONTEXT_SPAN, _AHEAD)):
            # the wide span reaches further ahead than behind: the page's next links (read in order) use it
            lo = mk.block_before(max(0, page - span))
            hi = mk.block_after(min(len(mk.raw), page + ahead * span))
            vis = self.visible(lo, hi)
            self._wide.append(vis)
            pos = vis.text_offset(page)
            if bounds := self._holds(vis, pos):
                return context_at(vis.text, pos, bounds)
        assert vis is not None
        return context_at(vis.text, pos)

    def _holds(self, vis: Visible, pos: int) -> tuple[int, int] | None:
        """What `context_at` reads around text offset `pos` (its bounds), when `vis` holds all of it."""
        a, b = bounds = context_bounds(vis.text, min(max(pos, 0), len(vis.text)))
        held = (a > 0 or vis.start == 0) and (b < len(vis.text) or vis.end == len(self.mk.raw))
        return bounds if held else None

    def _tag(self, tag: Tag, vis: Visible | None) -> list[tuple[str, int]]:
        """Direct links (URL attributes, meta refresh) of one start tag; the values to scan as text."""
        context = self._context_at(tag.end, vis)
        seen: set[str] = set()
        scan_these = []
        for name, value, at in tag.attrs:
            if not value or name in seen:
                continue
            seen.add(name)
            if name in URL_ATTRS and ANCHOR.search(value):
                written = value.strip()
                resolved = resolve(_join(self.base_url or _NO_BASE, written))
                if resolved:
                    where = "href" if name == "href" else "attr"
                    for found, redirect in resolved:
                        w = "redirect" if redirect and where == "href" else where
                        self.out.append(Occurrence(at, found, w, written, False, context))
                    continue
            if _MAYBE_ATTR.search(value) or not value.isascii():
                scan_these.append((value, at))
            if name == "content" and _http_equiv(tag) == "refresh":
                m = _REFRESH_URL.search(value)
                if m and m.group(1).strip():
                    url = m.group(1).strip()
                    for found, _redirect in resolve(urljoin(self.base_url, url) if self.base_url else url):
                        self.out.append(Occurrence(at, found, "meta", url, False, context))
        return scan_these


def _http_equiv(tag: Tag) -> str:
    """The tag's http-equiv, lower-cased ("" if none); the first of a repeated name wins."""
    return next((value.lower() for name, value, _ in tag.attrs if name == "http-equiv"), "")


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def _join(base: str, url: str) -> str:
    """urljoin(base, url); a URL with another scheme than the base's is returned as is (what urljoin
    does, without parsing both)."""
    m = _SCHEME.match(url)
    if m and not base.lower().startswith(m.group(1).lower() + ":"):
        return url
    return urljoin(base, url)


_SEP = "\n\x00\n"  # between texts scanned together: no link, handle or disguise spans it
# A site repeats its boilerplate (scripts, share buttons, the footer) on every page: the hits of recent
# texts are kept. Small, so that it serves neighbouring pages of one site, not a corpus read twice.
_RECENT: OrderedDict[str, tuple[tuple[int, Hit], ...]] = OrderedDict()
_RECENT_SIZE = 256
_RECENT_LOCK = threading.Lock()
_RECENT_TEXT = 8192  # longer texts are not kept


def forget() -> None:
    """Empty the cache of recently scanned texts (benchmarks do, between timed passes)."""
    with _RECENT_LOCK:
        _RECENT.clear()


def scan_each(texts: list[str]) -> list[tuple[int, int, Hit]]:
    """(index of the text, offset in it, hit) for every hit in `texts`; the texts not seen recently are
    scanned in one call (the scanner's cost is mostly per call)."""
    found: list[tuple[tuple[int, Hit], ...] | None] = [None] * len(texts)
    todo = []
    with _RECENT_LOCK:  # the crawler may extract from several threads
        for k, text in enumerate(texts):
            hits = _RECENT.get(text)
            if hits is None:
                todo.append(k)
            else:
                _RECENT.move_to_end(text)
                found[k] = hits
    if todo:
        fresh: dict[int, list[tuple[int, Hit]]] = {k: [] for k in todo}
        starts = list(accumulate((len(texts[k]) + len(_SEP) for k in todo[:-1]), initial=0))
        for hit in scan(_SEP.join(texts[k] for k in todo), prefilter=len(todo) > 8):
            i = bisect_right(starts, hit.start) - 1
            fresh[todo[i]].append((hit.start - starts[i], hit))
        with _RECENT_LOCK:
            for k, hits in fresh.items():
                found[k] = tuple(hits)
                if len(texts[k]) <= _RECENT_TEXT:
                    _RECENT[texts[k]] = found[k]  # type: ignore[assignment]
            while len(_RECENT) > _RECENT_SIZE:
                _RECENT.popitem(last=False)
    return [(k, start, hit) for k, hits in enumerate(found) for start, hit in hits or ()]
