"""HTML read as UTF-8 bytes without a tree: hidden sections, tags, block boundaries, a span's visible text.

The fast page path (`linkwatch.extract.spans`) reads only the spans around candidates with this; the
tree walk (`page.walk`) stays the reference, and this module declines (`UnusualMarkupError`) wherever
the two could read markup differently, so that the caller falls back to the walk.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import NamedTuple

from .chars import unescape
from .page import BLOCK  # the walk's block elements: both readers break lines alike

_BLOCK_BYTES = frozenset(n.encode() for n in BLOCK)
# The tree walk sees a start and an end for these although they have no end tag: two line breaks.
_VOID_BLOCK = frozenset((b"br", b"hr", b"img", b"input"))
# A tag; quoted values may hold `>`. Bounded and possessive: a stray quote cannot make an attempt run on.
TAG = re.compile(
    rb"<(/?)([A-Za-z][^\s/>\x00]{0,63}+)((?:[^>\"']++|\"[^\"]{0,16384}+\"|'[^']{0,16384}+')*+)>"
)
_ATTR = re.compile(rb"([^\s\"'>/=]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
# Sections whose content is not markup (script, style, comments), and markup libxml2 may read otherwise
# than a tag-by-tag reading does: those send the page to the tree walk.
_SECTION = re.compile(
    rb"<(?=[!?sStTxXpPnN])(?:(?i:(script|style))(?=[\s/>])|(!--)"
    rb"|(?i:(template|textarea|xmp|plaintext|noembed|noframes|\?|!\[cdata\[)))"
)
_END = {b"script": re.compile(rb"</(?i:script)"), b"style": re.compile(rb"</(?i:style)")}
_XML_DECL = re.compile(rb"\s*<\?(?i:xml)[^>]{0,200}>")


class UnusualMarkupError(Exception):
    """Markup that only the tree walk reads faithfully (templates, textarea, unparsable tags …)."""


class Section(NamedTuple):
    """Script, style or comment: `start`/`end` bound the whole section, `lo`/`hi` its text."""

    start: int
    lo: int
    hi: int
    end: int


class Tag(NamedTuple):
    """A start or end tag: its span, lower-cased name, and attributes with where each value starts."""

    start: int
    end: int
    name: bytes
    closing: bool
    attrs: tuple[tuple[str, str, int], ...]  # (lower-cased name, entity-decoded value, value offset)


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


class Markup:
    """One page's bytes, with its hidden sections found once (scripts, styles and comments are few)."""

    def __init__(self, raw: bytes, starts: list[int] | None = None) -> None:
        """`starts`: offsets where a section may start, every one (the prefilter's gate finds them in its
        pass over the page); None: look for them here."""
        self.raw = raw
        m = _XML_DECL.match(raw)
        begin = m.end() if m else 0
        sections: list[Section] = []
        pos = 0
        if starts is None:
            found: Iterable[re.Match[bytes] | None] = _SECTION.finditer(raw, begin)
        else:
            found = (_SECTION.match(raw, s) for s in starts if s >= begin)
        for m in found:
            if m is None:
                continue  # not a section after all (`<span`, `<table`…)
            if m.start() < pos:
                continue  # inside the previous section (a `<!--` in a script…)
            if m.group(3) is not None:
                raise UnusualMarkupError(m.group(3).decode("ascii", "replace"))
            if m.group(2) is not None:  # comment
                lo = m.end()
                hi = raw.find(b"-->", lo)
                end = len(raw) if hi < 0 else hi + 3
                hi = len(raw) if hi < 0 else hi
            else:
                tag = TAG.match(raw, m.start())
                if tag is None:
                    raise UnusualMarkupError("script tag")
                lo = tag.end()
                end_tag = _END[m.group(1).lower()].search(raw, lo)
                if end_tag is None:
                    hi = end = len(raw)
                else:
                    hi = end_tag.start()
                    close = raw.find(b">", hi)
                    end = len(raw) if close < 0 else close + 1
            sections.append(Section(m.start(), lo, hi, end))
            pos = end
        self.sections = sections
        self._starts = [s.start for s in sections]
        self._tag_at: dict[int, Tag | None] = {}

    def section_at(self, p: int) -> Section | None:
        """The section holding offset `p`, if any."""
        i = bisect_right(self._starts, p) - 1
        if i >= 0 and p < self.sections[i].end:
            return self.sections[i]
        return None

    def tag_at(self, p: int) -> Tag | None:
        """The tag whose markup holds offset `p` (inside `<…>`), or None when `p` is in text."""
        if p in self._tag_at:  # the page reader asks again for candidates inside a window of text
            return self._tag_at[p]
        tag = self._tag_at[p] = self._find_tag(p)
        return tag

    def _find_tag(self, p: int) -> Tag | None:
        lt = self.raw.rfind(b"<", 0, p + 1)
        while lt >= 0 and (sec := self.section_at(lt)) is not None and lt != sec.start:
            lt = self.raw.rfind(b"<", 0, sec.start)  # a `<` inside a script is not a tag start
        if lt < 0:
            return None
        m = TAG.match(self.raw, lt)
        if m is None:
            if self.raw[lt + 1 : lt + 2].isalpha() or self.raw[lt + 1 : lt + 3].startswith(b"/"):
                # an unclosed quote, a huge value…: the tree walk decides
                raise UnusualMarkupError("unparsable tag")
            return None
        return self._tag(m) if m.end() > p else None

    def _tag(self, m: re.Match[bytes]) -> Tag:
        attrs = []
        base = m.start(3)
        for a in _ATTR.finditer(m.group(3)):
            g = a.lastindex  # 2, 3 or 4: the value's group (quoted twice, once, not); 1: no value
            if g != 1:
                name = a.group(1).decode("utf-8", "replace").lower()
                attrs.append((name, _decode(a.group(g)), base + a.start(g)))
        return Tag(m.start(), m.end(), m.group(2).lower(), bool(m.group(1)), tuple(attrs))

    def block_before(self, p: int, lo: int = 0) -> int:
        """Where the block-level run of text holding `p` starts: at the nearest block tag before it."""
        raw = self.raw
        i = p
        while True:
            lt = raw.rfind(b"<", lo, i)
            if lt < 0:
                return lo
            sec = self.section_at(lt)
            if sec is not None:
                i = sec.start  # sections are inline: skip over them
                continue
            m = TAG.match(raw, lt)
            if m is not None and m.end() <= p and m.group(2).lower() in _BLOCK_BYTES:
                return lt  # the tag's line break opens the span
            i = lt

    def block_after(self, p: int, hi: int | None = None) -> int:
        """Where the block-level run of text holding `p` ends: after the nearest block tag after it."""
        raw = self.raw
        hi = len(raw) if hi is None else hi
        i = p
        while True:
            lt = raw.find(b"<", i, hi)
            if lt < 0:
                return hi
            sec = self.section_at(lt)
            if sec is not None:
                i = sec.end
                continue
            m = TAG.match(raw, lt)
            if m is not None and m.group(2).lower() in _BLOCK_BYTES:
                return m.end()  # the tag's line break closes the span
            i = m.end() if m is not None else lt + 1

    def visible(self, start: int, end: int) -> Visible:
        """The visible text of raw[start:end]: tags and sections out, a line break per block tag."""
        i = bisect_right(self._starts, start) - 1
        if i >= 0 and self.sections[i].end > start:
            start = self.sections[i].end  # the span starts inside a section: its text is not visible
        parts: list[str] = []
        sizes: list[int] = []  # page bytes behind each part: text, tag, text, tag, …, text
        pos = start
        for sec in self.sections[max(0, i) :]:
            if sec.start >= end:
                break
            if sec.start >= pos:  # sections are inline: the text on both sides joins
                _parts(self.raw[pos : sec.start], parts, sizes)
                parts.append("")
                sizes.append(sec.end - sec.start)
                pos = sec.end
        _parts(self.raw[pos:end] if pos < end else b"", parts, sizes)
        return Visible(parts, sizes, start, end)


def _parts(raw: bytes, parts: list[str], sizes: list[int]) -> None:
    # re.split runs in C: [text, slash, name, attributes, text, …]; a `<` starting no tag stays text.
    # One plain loop over it: a span holds a dozen tags, too few for C maps to pay their set-up.
    bits = TAG.split(raw)
    amp = b"&" in raw
    brk = _BREAK.get
    for i in range(0, len(bits) - 1, 4):
        text = bits[i].decode("utf-8", "replace")
        parts.append(unescape(text) if amp and "&" in text else text)
        parts.append(brk(bits[i + 2], ""))
        sizes.append(len(bits[i]))
        sizes.append(len(bits[i + 1]) + len(bits[i + 2]) + len(bits[i + 3]) + 2)  # `<` slash name attrs `>`
    text = bits[-1].decode("utf-8", "replace")
    parts.append(unescape(text) if amp and "&" in text else text)
    sizes.append(len(bits[-1]))


def _cases(name: bytes) -> list[bytes]:
    """Every upper/lower-case spelling of a tag name (`div`, `Div`, … `DIV`)."""
    out = [b""]
    for c in name:
        out = [o + bytes([v]) for o in out for v in {c, ord(chr(c).upper())}]
    return out


# The line break a tag makes, by its name as written (every case spelled out: no lower() per tag).
_BREAK = {v: "\n\n" if n in _VOID_BLOCK else "\n" for n in _BLOCK_BYTES for v in _cases(n)}


class Visible:
    """Visible text of a span; its offsets map back to page offsets (part by part, when first asked)."""

    def __init__(self, parts: list[str], sizes: list[int], start: int, end: int) -> None:
        self.start = start  # the page span read
        self.end = end
        self.parts = parts
        self.text = "".join(parts)
        self._sizes = sizes
        self._start = start
        self._cums: tuple[list[int], list[int]] | None = None

    def _cum(self) -> tuple[list[int], list[int]]:
        if self._cums is None:
            self._cums = (
                list(accumulate(map(len, self.parts), initial=0)),
                list(accumulate(self._sizes, initial=self._start)),
            )
        return self._cums

    def page_offset(self, pos: int) -> int:
        """The page (byte) offset of text offset `pos`."""
        text_at, page_at = self._cum()
        i = min(bisect_right(text_at, pos) - 1, len(self.parts) - 1)
        if i % 2:  # a line break standing for a tag: the tag
            return page_at[i]
        inner = len(self.parts[i][: pos - text_at[i]].encode())
        return min(page_at[i] + inner, page_at[i + 1])

    def text_offset(self, page: int) -> int:
        """The text offset of page offset `page` (inside a tag or section: the text right after it)."""
        text_at, page_at = self._cum()
        i = min(bisect_right(page_at, page) - 1, len(self.parts) - 1)
        if i < 0:
            return 0
        if i % 2:
            return text_at[i + 1]
        part = self.parts[i]
        return text_at[i] + len(part.encode()[: page - page_at[i]].decode("utf-8", "ignore"))
