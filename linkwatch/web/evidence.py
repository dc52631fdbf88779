"""A captured page made safe to look at: rebuilt from an allow-list of text elements with no attributes, so
nothing in it can make a browser fetch anything (no script, frame, form, image, style or URL survives)."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass
from html import escape

from lxml import etree
from lxml import html as lxml_html

from linkwatch.extract import is_html
from linkwatch.extract.charset import decode
from linkwatch.web.render import defang, shown

MAX_BODY = 5 * 1024 * 1024  # a capture larger than this is shown cut (the digest covers the whole)

# Elements rebuilt as themselves, without a single attribute (but colspan/rowspan digits).
KEEP = frozenset((
    "div", "p", "span", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt",
    "dd", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "pre", "code", "blockquote",
    "b", "strong", "i", "em", "u", "s", "small", "sub", "sup", "article", "section", "header", "footer",
    "main", "nav", "aside", "figure", "figcaption", "address", "abbr", "cite", "q", "mark", "time",
    "label", "center", "big", "tt", "strike", "del", "ins", "kbd", "samp", "var", "details", "summary",
    "font",
))
# Dropped with everything inside: code, frames, embedded objects, styles, metadata, form controls.
DROP = frozenset((
    "head", "script", "style", "template", "iframe", "frame", "frameset", "object", "applet", "svg",
    "math", "canvas", "noscript", "select", "datalist", "textarea", "map", "portal", "noembed", "noframes",
    "xml",
))
# Void elements that only reference something: the tag goes. Their children are still walked (not
# dropped), because the HTML parser nests whatever follows an unknown-to-it void tag inside it.
VOID = frozenset((
    "embed", "source", "track", "param", "area", "input", "link", "meta", "base", "keygen", "wbr", "col",
    "option", "optgroup",
))
# Media and images become a placeholder naming what was there (never a reference to it).
PLACEHOLDER = {"img": "image", "image": "image", "video": "video", "audio": "audio", "picture": "picture"}
# Everything else (html, body, a, form, button, custom elements, …) is unwrapped: its text stays.
BLOCK = frozenset((
    "div", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "tr", "caption", "pre", "blockquote", "article", "section", "header", "footer", "main",
    "nav", "aside", "figure", "figcaption", "address", "details", "summary", "form",
))
# huge_tree: libxml2 otherwise stops at 256 levels of nesting, and a page could hide text below them.
# One parser per thread: lxml parsers must not be shared between threads (requests run in a pool).
_PARSERS = threading.local()
_SPAN = re.compile(r"^[0-9]{1,3}$")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# The only style the rendered view has; its hash is the one style the evidence CSP allows.
STYLE = ("body{font:14px/1.5 system-ui,'Noto Sans KR','Malgun Gothic',sans-serif;margin:12px;color:#111;"
         "background:#fff;word-break:break-word}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
         "padding:2px 4px}.lw-media{color:#777;border:1px dashed #bbb;padding:0 3px;font-size:12px}"
         ".lw-href{color:#555;font-size:12px;font-family:monospace}pre{white-space:pre-wrap}")


@dataclass(frozen=True)
class SafePage:
    """The sanitised rendering of a capture and its visible text."""

    html: str  # a whole document: the allow-listed body, our one stylesheet
    text: str
    truncated: bool
    removed: dict[str, int]  # element name -> how many were dropped or replaced


def _parser() -> lxml_html.HTMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = lxml_html.HTMLParser(huge_tree=True)
    return parser


def _tag(el: etree._Element) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):
        return None  # comment, processing instruction, entity
    return tag.rsplit("}", 1)[-1].lower()


def sanitise(body: bytes, content_type: str | None = None) -> SafePage:
    """The capture as a self-contained document that references nothing, and its visible text."""
    truncated = len(body) > MAX_BODY
    text = decode(body[:MAX_BODY], content_type)
    if not is_html(text, content_type):
        safe = escape(shown(text), quote=False)
        return SafePage(document(f"<pre>{safe}</pre>"), text, truncated, {})
    try:
        root = lxml_html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError):
        safe = escape(shown(text), quote=False)
        return SafePage(document(f"<pre>{safe}</pre>"), text, truncated, {})
    out: list[str] = []
    words: list[str] = []
    removed: dict[str, int] = {}
    # An explicit stack, not recursion: hostile pages nest elements thousands deep. Each entry is
    # (what, element or text): open an element, close it, or print where an anchor pointed.
    stack: list[tuple[str, object]] = [("open", root)]
    while stack:
        what, item = stack.pop()
        if what == "href":
            # Where the link pointed, as text that no browser opens.
            label = defang(str(item)[:300])
            out.append(f' <span class="lw-href">[{escape(label, quote=False)}]</span>')
            continue
        el: etree._Element = item  # type: ignore[assignment]
        name = _tag(el)
        if what == "close":
            if name in KEEP:
                out.append(f"</{name}>")
            elif name == "a":
                out.append("</span>")
            if name in BLOCK:
                words.append("\n")
            _text(el.tail, out, words)
            continue
        if name is None or name in DROP:
            if name is not None:
                removed[name] = removed.get(name, 0) + 1
            _text(el.tail, out, words)
            continue
        if name in PLACEHOLDER:
            alt = el.get("alt") if name in ("img", "image") else None
            label = PLACEHOLDER[name] + (f": {alt.strip()[:200]}" if alt and alt.strip() else "")
            out.append(f'<span class="lw-media">[{escape(shown(label), quote=False)}]</span>')
            words.append(f"[{label}]")
        if name in PLACEHOLDER or name in VOID:
            removed[name] = removed.get(name, 0) + 1
        if name in KEEP:
            attrs = "".join(f' {a}="{el.get(a)}"' for a in ("colspan", "rowspan")
                            if _SPAN.match(el.get(a) or ""))
            out.append(f"<{name}{attrs}>")
        elif name == "a":
            out.append("<span>")
        if name in BLOCK:
            words.append("\n")
        _text(el.text, out, words)
        stack.append(("close", el))
        if name == "a" and el.get("href"):
            stack.append(("href", el.get("href")))
        stack.extend(("open", child) for child in reversed(el))
    return SafePage(document("".join(out)), _tidy("".join(words)), truncated, removed)


def _text(value: str | None, out: list[str], words: list[str]) -> None:
    if value:
        out.append(escape(shown(value), quote=False))
        words.append(value)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def document(body_html: str) -> str:
    """The rendered view's whole document around already-safe body HTML."""
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>captured page</title>'
            f"<style>{STYLE}</style></head><body>{body_html}</body></html>")


def style_hash() -> str:
    """The CSP source for STYLE: the one style the evidence document may apply."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"
