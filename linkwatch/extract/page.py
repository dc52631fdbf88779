"""Walk an HTML page in document order: attributes, meta refresh, visible text (markup splits joined)."""

from __future__ import annotations

import html as htmllib
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urljoin

if TYPE_CHECKING:
    from lxml import etree

from .platforms import Found, platform_for
from .resolve import resolve
from .scan import ANCHOR, Hit, scan
from .urls import split_url


class Occurrence(NamedTuple):
    """A link seen once somewhere in a page; `key` orders occurrences by appearance."""

    key: float
    found: Found
    where: str
    raw: str
    obfuscated: bool
    context: Callable[[], str]  # computed only for the occurrence that represents the link


# Elements whose start and end break a line of visible text (so `<p>a</p><p>b</p>` is not "ab").
BLOCK = frozenset(
    (
        "address", "article", "aside", "blockquote", "body", "br", "button", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "iframe", "img", "input", "li", "main",
        "nav", "ol", "option", "p", "pre", "section", "select", "summary", "table", "tbody", "td",
        "textarea", "tfoot", "th", "thead", "title", "tr", "ul",
    )
)  # fmt: skip
INVISIBLE = frozenset({"script", "style", "template"})
URL_ATTRS = ("href", "data-href", "data-url", "data-link", "src", "action", "formaction")
_REFRESH_URL = re.compile(r"(?i)url\s*=\s*['\"]?([^'\"]*)")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_WS = re.compile(r"\s+")
CONTEXT_MAX = 300


def _collapse(s: str) -> str:
    """_WS.sub(" ", s): each run of whitespace one space (split and join: several times faster on Hangul)."""
    core = " ".join(s.split())  # str.split and re's \s agree on what whitespace is (Py_UNICODE_ISSPACE)
    if not core:
        return " " if s else ""
    if s[0].isspace():
        core = " " + core
    if s[-1].isspace():
        core += " "
    return core


def context_bounds(buf: str, pos: int) -> tuple[int, int]:
    """The span of `buf` that `context_at` reads: the line around `pos`, widened to neighbours when short."""
    lo = buf.rfind("\n", max(0, pos - 1000), pos)
    lo = lo + 1 if lo >= 0 else max(0, pos - 1000)
    hi = buf.find("\n", pos, pos + 1000)
    hi = hi if hi >= 0 else min(len(buf), pos + 1000)
    for _ in range(4):  # a line that is only the link: take the post text around it
        if _long(buf, lo, hi):
            break
        if lo > 0:
            p = buf.rfind("\n", max(0, lo - 400), lo - 1)
            lo = p + 1 if p >= 0 else max(0, lo - 400)
        if hi < len(buf):
            n = buf.find("\n", hi + 1, hi + 400)
            hi = n if n >= 0 else min(len(buf), hi + 400)
    return lo, hi


def _long(buf: str, lo: int, hi: int) -> bool:
    """len(buf[lo:hi].strip()) >= 80, mostly without copying the span."""
    if hi - lo < 80:
        return False
    if not buf[lo].isspace() and not buf[hi - 1].isspace():
        return True
    return len(buf[lo:hi].strip()) >= 80


def context_at(buf: str, pos: int, bounds: tuple[int, int] | None = None) -> str:
    """The line (block) of `buf` around `pos`, widened to neighbours when short; collapsed, <= 300 chars.
    `bounds`: `context_bounds(buf, pos)`, when the caller has it already."""
    pos = min(max(pos, 0), len(buf))
    lo, hi = context_bounds(buf, pos) if bounds is None else bounds
    left = _collapsed_tail(buf, lo, pos)
    right = _collapsed_head(buf, pos, hi)
    if left.endswith(" ") and right.startswith(" "):
        right = right[1:]
    if len(left) + len(right) <= CONTEXT_MAX:
        return left + right
    keep_left = min(len(left), CONTEXT_MAX // 3)
    keep_left = max(keep_left, CONTEXT_MAX - len(right))
    return (left[len(left) - keep_left :] + right)[:CONTEXT_MAX].strip()


# context_at reads at most CONTEXT_MAX characters of each side once collapsed: a side is collapsed in
# full only when a piece of this many characters does not already give more than that.
_PIECE = 4 * CONTEXT_MAX


def _collapsed_head(buf: str, start: int, end: int) -> str:
    """_collapse(buf[start:end]).rstrip(), or a longer-than-needed prefix of it (not stripped)."""
    if end - start > _PIECE:
        head = _collapse(buf[start : start + _PIECE])
        if len(head) > CONTEXT_MAX + 1:
            return head
    return _collapse(buf[start:end]).rstrip()


def _collapsed_tail(buf: str, start: int, end: int) -> str:
    """_collapse(buf[start:end]).lstrip(), or a longer-than-needed suffix of it (not stripped)."""
    if end - start > _PIECE:
        tail = _collapse(buf[end - _PIECE : end])
        if len(tail) > CONTEXT_MAX + 1:
            return tail
    return _collapse(buf[start:end]).lstrip()


class _Buffer:
    """Concatenated text pieces, each remembering its order key and its position in the visible text."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.marks: list[tuple[int, int, int]] = []  # (offset in buffer, order key, visible position)
        self.length = 0

    def add(self, text: str, key: int, vis_pos: int, sep: str = "") -> None:
        self.marks.append((self.length, key, vis_pos))
        self.parts.append(text + sep if sep else text)
        self.length += len(text) + len(sep)

    def locate(self, pos: int) -> tuple[int, int, int]:
        """(order key, offset inside the piece, visible-text position) for a buffer offset."""
        i = max(0, bisect_right(self.marks, (pos, float("inf"), 0)) - 1)
        offset, key, vis = self.marks[i]
        return key, pos - offset, vis


# An attribute value without any of these cannot hold a link or a disguise (class names, ids, dates…).
_MAYBE_ATTR = re.compile(r"[.:%@,]|(?i:dot)|aHR0c")
# Relative URLs with no base still have a query to unwrap (`/out?u=<base64>`): join them to a dummy host.
_NO_BASE = "http://relative.invalid/"
# (order key, links it names, where, visible-text position, the value as written): a whole URL judged
_Direct = tuple[int, list[tuple[Found, bool]], str, int, str]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _parse(text: str) -> tuple[etree._Element | None, bool]:
    """The tree, and whether libxml2 read the whole page (no fatal error such as excessive depth)."""
    from lxml import etree  # here: most pages are read around their candidates, never parsed (10 ms)

    text = _XML_DECL.sub("", text, count=1).replace("\x00", "\ufffd")
    parser = etree.HTMLParser(recover=True, no_network=True, huge_tree=True, remove_comments=False)
    try:
        root = etree.fromstring(text, parser)
    except ValueError:  # control characters or lone surrogates, which lxml refuses: blank them and retry
        try:
            root = etree.fromstring(_CONTROL.sub("\ufffd", text), parser)
        except (etree.LxmlError, ValueError):
            return None, False
    except etree.LxmlError:
        return None, False
    complete = not any(e.level_name == "FATAL" for e in parser.error_log)
    return root, complete


@dataclass(frozen=True, slots=True)
class Walked:
    """What the DOM walk found, and the text it saw (visible, attributes, scripts and comments)."""

    occurrences: list[Occurrence]
    seen: str
    complete: bool  # False: the parser gave up part of the page, so the raw markup must be read too


def base_on_platform(base_url: str | None) -> bool:
    """A page on a platform host (t.me previews) holds relative links that are invites."""
    if not base_url:
        return False
    parts = split_url(base_url)
    return parts is not None and platform_for(parts) is not None


def walk(text: str, base_url: str | None) -> Walked | None:
    """Occurrences in an HTML page, or None when it does not parse (the caller scans it as text)."""
    from lxml import etree

    root, complete = _parse(text)
    if root is None:
        return None
    for el in root.iter("base"):
        if el.get("href"):
            base_url = urljoin(base_url or "", el.get("href"))
            break
    on_platform = base_on_platform(base_url)
    visible = _Buffer()  # visible text, with a line break at every block boundary
    attrs = _Buffer()  # attribute values, one per line
    hidden = _Buffer()  # scripts, styles, comments
    direct: list[_Direct] = []
    key = 0
    skip_depth = 0
    # The visible buffer is filled inline (this loop runs per element of link-dense pages): its offset
    # is its own visible position, so one running length serves both.
    vis_parts, vis_marks, vis_len = visible.parts, visible.marks, 0

    for event, el in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        tag = el.tag
        if not isinstance(tag, str):  # comment or processing instruction: not visible
            key += 1
            if el.text:
                hidden.add(el.text, key, vis_len, "\n")
            if el.tail:
                key += 1
                if skip_depth:
                    hidden.add(el.tail, key, vis_len, "\n")
                else:
                    vis_marks.append((vis_len, key, vis_len))
                    vis_parts.append(el.tail)
                    vis_len += len(el.tail)
            continue
        tag = tag.lower()
        if event == "start":
            key += 1
            if tag in BLOCK:
                vis_marks.append((vis_len, key, vis_len))
                vis_parts.append("\n")
                vis_len += 1
            for name, value in el.items():
                if not value:
                    continue
                name = name.lower()
                # most attributes (class, id, alt…) are plain words: skip the call unless one could matter
                if name in URL_ATTRS or name == "content" or not value.isascii() or _MAYBE_ATTR.search(value):
                    _attribute(name, value, el, key, vis_len, base_url, on_platform, attrs, direct)
            if tag in INVISIBLE:
                skip_depth += 1
            text = el.text
        else:
            if tag in INVISIBLE:
                skip_depth -= 1
            if tag in BLOCK:
                vis_marks.append((vis_len, key, vis_len))
                vis_parts.append("\n")
                vis_len += 1
            text = el.tail
        if text:
            key += 1
            if skip_depth:
                hidden.add(text, key, vis_len, "\n")
            else:
                vis_marks.append((vis_len, key, vis_len))
                vis_parts.append(text)
                vis_len += len(text)
    visible.length = vis_len
    vis_text = "".join(visible.parts)
    occurrences = _collect(vis_text, visible, attrs, hidden, direct)
    seen = "\n".join((vis_text, "".join(attrs.parts), "".join(hidden.parts)))
    return Walked(occurrences, seen, complete)


def _attribute(
    name: str,
    value: str,
    el: etree._Element,
    key: int,
    vis_pos: int,
    base_url: str | None,
    base_on_platform: bool,
    attrs: _Buffer,
    direct: list[_Direct],
) -> None:
    if name in URL_ATTRS and ((base_on_platform and "://" not in value) or ANCHOR.search(value)):
        found = resolve(urljoin(base_url or _NO_BASE, value.strip()))
        if found:  # a whole URL that is a link: no need to scan it as text as well
            direct.append((key, found, "href" if name == "href" else "attr", vis_pos, value.strip()))
            return
    if _MAYBE_ATTR.search(value) or not value.isascii():
        attrs.add(value, key, vis_pos, "\n")
    if name == "content" and (el.get("http-equiv") or "").lower() == "refresh":
        m = _REFRESH_URL.search(value)
        if m and m.group(1).strip():
            url = m.group(1).strip()
            found = resolve(urljoin(base_url, url) if base_url else url)
            direct.append((key, found, "meta", vis_pos, url))


def _collect(
    vis_text: str, visible: _Buffer, attrs: _Buffer, hidden: _Buffer, direct: list[_Direct]
) -> list[Occurrence]:
    out: list[Occurrence] = []
    for key, resolved, where, vis_pos, written in direct:
        for found, redirect in resolved:
            w = "redirect" if redirect and where == "href" else where
            out.append(Occurrence(key, found, w, written, False, partial(context_at, vis_text, vis_pos)))

    def from_buffer(buf: _Buffer, where: str, is_visible: bool) -> None:
        if not buf.parts:
            return
        text = "".join(buf.parts)
        for hit in scan(text):
            key, inner, vis_pos = buf.locate(hit.start)
            # a split link starts in one piece and may span several; order by the piece it starts in
            ctx_pos = vis_pos + inner if is_visible else vis_pos
            w = "redirect" if hit.redirect else where
            out.append(_occ(key + inner / (len(text) + 1), hit, w, partial(context_at, vis_text, ctx_pos)))

    from_buffer(visible, "text", True)
    from_buffer(attrs, "attr", False)
    from_buffer(hidden, "text", False)
    return out


def _occ(key: float, hit: Hit, where: str, context: Callable[[], str]) -> Occurrence:
    return Occurrence(key, hit.found, where, hit.raw, hit.obfuscated, context)


def unescape(text: str) -> str:
    """HTML entities decoded (plain text that is HTML-escaped markup: rules "Cutting codes" step 1)."""
    return htmllib.unescape(text) if "&" in text else text
