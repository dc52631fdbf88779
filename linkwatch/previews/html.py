"""Small HTML helpers for preview pages (selectolax/lexbor; no network, no Scrapy)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

MAX_HTML = 512 * 1024  # preview pages are a few KB; anything bigger is truncated before parsing


def parse(html: str) -> LexborHTMLParser:
    """A parsed document from (truncated) preview HTML."""
    return LexborHTMLParser(html[:MAX_HTML])


def meta(doc: LexborHTMLParser, prop: str) -> str | None:
    """content of <meta property=prop> or <meta name=prop>; never follows what it points to."""
    for selector in (f'meta[property="{prop}"]', f'meta[name="{prop}"]'):
        node = doc.css_first(selector)
        if node is not None:
            value = node.attributes.get("content")
            if value is not None:
                return value
    return None


def text_of(doc: LexborHTMLParser, selector: str) -> str | None:
    """Visible text of the first node matching selector, or None."""
    node = doc.css_first(selector)
    if node is None:
        return None
    return node.text(separator=" ")
