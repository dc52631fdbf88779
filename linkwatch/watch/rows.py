"""Reads a page's links the way a listing shows them: topic rows (with their signature) and pager links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

# The nearest of these around a link is its row (a board's table row, list item or article card).
ROW_TAGS = frozenset({"tr", "li", "article"})
# Numbers and dates/times in a row's text: reply and view counts, "2026-12-07 16:40", "07.12.2026".
_NUMBER = re.compile(r"\d+(?:[.:/-]\d+)*")
_NUMERIC_TEXT = re.compile(r"^\W*(\d{1,5})\W*$")
_NEXT_WORDS = frozenset({"next", "next page", "older", "more", "»", "›", ">", ">>", "→", "next »", "next ›"})
_LAST_WORDS = frozenset({"last", "last page", "»»", ">|", "last »"})
PAGER_RELS = frozenset({"next", "prev", "previous"})
MAX_ROW_TEXT = 400  # raw row text kept as evidence of what the listing showed


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """How a link appears on its page: a row's topic link (`row`), a page number in a row (`row_pager`),
    the page's own pager (`pager`), or any other link (`plain`)."""

    role: str
    signature: str = ""  # normalised: the numbers and dates of its row outside the link text
    raw: str = ""  # the row's text as shown (bounded)
    topic: str | None = None  # row_pager: the URL of its row's topic link
    page_no: int | None = None  # pager/row_pager: the page number the link names, when it names one
    next: bool = False  # pager: "next" (the page after the one it is on)
    position: int | None = None  # row: its place among the page's rows (0 first)


_PRIORITY = {"row": 3, "row_pager": 2, "pager": 1, "plain": 0}


def signature_of(text: str) -> str:
    """The normalised signature of a row's text: its numbers and dates, in order."""
    return " ".join(_NUMBER.findall(text))


def _text(node: LexborNode) -> str:
    return " ".join((node.text(separator=" ") or "").split())


def _row_of(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None:
        if parent.tag in ROW_TAGS or (parent.attributes.get("role") or "") == "row":
            return parent
        if parent.tag in ("body", "html", "table", "ul", "ol"):
            return None
        parent = parent.parent
    return None


def _href(node: LexborNode, base: str) -> str | None:
    href = (node.attributes.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        return urljoin(base, href).split("#", 1)[0]
    except ValueError:
        return None


def _pager(node: LexborNode, text: str) -> LinkInfo | None:
    """A pager link's info (the page number it names, or that it is "next"); None for other links."""
    rel = set((node.attributes.get("rel") or "").lower().split())
    match = _NUMERIC_TEXT.match(text)
    if match:
        return LinkInfo("pager", page_no=int(match.group(1)))
    lowered = text.lower()
    if "next" in rel or lowered in _NEXT_WORDS:
        return LinkInfo("pager", next=True)
    if rel & PAGER_RELS or lowered in _LAST_WORDS:
        return LinkInfo("pager")
    return None


def read_links(tree: LexborHTMLParser, base: str, page_url: str) -> dict[str, LinkInfo]:
    """Every link of the page (absolute URL, fragment dropped) with how the page shows it.

    A row is the nearest table row / list item / article around a link; its topic link is the first
    link in it whose text is not a page number and that leads to another page; its signature is the
    numbers and dates in the row's text outside that link's text. A link whose text is a page number
    (or next/last, or rel=next/prev) is a pager link: of its row's topic when it sits in a row.
    """
    own = page_url.split("#", 1)[0]
    found: dict[str, LinkInfo] = {}
    rows: dict[int, tuple[str, str]] = {}  # row node id -> (topic url, row text)
    position = 0

    def put(url: str, info: LinkInfo) -> None:
        old = found.get(url)
        if old is None or _PRIORITY[info.role] > _PRIORITY[old.role]:
            found[url] = info

    for node in tree.css("a[href]"):
        url = _href(node, base)
        if url is None or url == own:
            continue
        text = _text(node)
        pager = _pager(node, text)
        row = _row_of(node)
        if row is None:
            put(url, pager or LinkInfo("plain"))
            continue
        key = row.mem_id
        if key not in rows and not pager:
            row_text = _text(row)
            rest = row_text.replace(text, " ", 1) if text else row_text
            rows[key] = (url, row_text)
            put(url, LinkInfo("row", signature_of(rest), row_text[:MAX_ROW_TEXT], position=position))
            position += 1
        elif pager is not None and key in rows:
            put(url, LinkInfo("row_pager", topic=rows[key][0], page_no=pager.page_no, next=pager.next))
        elif pager is not None:
            put(url, pager)
        else:
            put(url, LinkInfo("plain"))
    return found


def is_listing(links: dict[str, LinkInfo]) -> bool:
    """A page that lists at least three other pages in rows of their own (a board, an index)."""
    return sum(1 for info in links.values() if info.role == "row") >= 3
