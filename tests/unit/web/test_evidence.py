"""The evidence rendering references nothing: only allow-listed elements, no attribute that could load, run
or link anything; hostile text stays text."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from linkwatch.web.evidence import KEEP, MAX_BODY, STYLE, sanitise, style_hash
from tests.utils.console import BIDI, EVIDENCE_HTML, KOREAN, SCRIPT

ALLOWED_TAGS = KEEP | {"html", "head", "meta", "title", "style", "body", "span"}


def elements(document: str) -> list:
    return list(lxml_html.document_fromstring(document).iter())


def test_every_resource_reference_is_gone() -> None:
    safe = sanitise(EVIDENCE_HTML.encode(), "text/html; charset=utf-8")
    for el in elements(safe.html):
        assert el.tag in ALLOWED_TAGS, el.tag
        for name, value in el.attrib.items():
            # Our own document head (charset) and our own classes; table spans as digits.
            assert (name, el.tag) in {("charset", "meta"), ("class", "span"), ("colspan", "td"),
                                      ("rowspan", "td")}, (el.tag, name, value)
    body = safe.html.split("<body>", 1)[1]
    for needle in ("src", "href=", "url(", "srcset", "poster", "data=", "action", "background", "refresh",
                   "<script", "<style", "<iframe", "<img", "<link", "<base", "<object", "<embed", "<svg",
                   "onload", "ping="):
        assert needle not in body.lower(), needle
    # The only style in the document is ours, and the CSP names its hash.
    assert re.findall(r"<style>(.*?)</style>", safe.html, re.S) == [STYLE]
    assert style_hash().startswith("'sha256-")


def test_the_text_and_placeholders_stay() -> None:
    safe = sanitise(EVIDENCE_HTML.encode(), "text/html; charset=utf-8")
    assert KOREAN in safe.html
    assert KOREAN in safe.text
    assert "[image: synthetic photo]" in safe.html
    assert "[video]" in safe.text
    assert "[audio]" in safe.text
    # Where a link pointed is shown defanged after its text, never as a link.
    assert "[hxxps://t[.]me/+SynthWebCode01]" in safe.html
    # The bidi override is visible in the rendering; the text view keeps the stored characters.
    assert "⟦U+202E⟧" in safe.html
    assert "\u202e" not in safe.html
    assert BIDI.strip("\u202c") in safe.text
    assert safe.removed["script"] == 1
    assert safe.removed["iframe"] == 2
    assert safe.removed["img"] == 3
    # Content after a void element the parser does not know (embed) is not lost.
    assert "gnp.exe" in safe.text


def test_script_text_is_neither_shown_nor_run() -> None:
    safe = sanitise(f"<p>before</p><script>{SCRIPT}</script><p>after</p>".encode(), "text/html")
    assert "alert" not in safe.html
    assert "alert" not in safe.text
    assert "before" in safe.text
    assert "after" in safe.text


def test_markup_in_text_is_escaped() -> None:
    safe = sanitise(b"<p>&lt;script&gt;alert(1)&lt;/script&gt; &quot;&gt;&lt;svg onload=x&gt;</p>",
                    "text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in safe.html
    assert "<script" not in safe.html.lower()
    assert "<svg" not in safe.html.lower()


def test_deep_nesting_and_huge_pages_do_not_break_it() -> None:
    nested = ("<div>" * 1_500 + "deep" + "</div>" * 1_500).encode()
    assert "deep" in sanitise(nested, "text/html").text
    # Past the parser's limit the rest of the page is cut (the source view still has it): no error.
    assert sanitise(b"<div>" * 50_000, "text/html").html.startswith("<!DOCTYPE html>")
    huge = b"<p>" + b"x" * (MAX_BODY + 10) + b"</p>"
    assert sanitise(huge, "text/html").truncated


def test_plain_text_and_bad_bytes() -> None:
    safe = sanitise(b"<b>not markup</b>\x1b[31m", "text/plain")
    assert "&lt;b&gt;not markup&lt;/b&gt;" in safe.html
    assert "⟦U+001B⟧" in safe.html
    euc = "합성 게시판".encode("cp949")
    assert "합성 게시판" in sanitise(b"<html><meta charset=euc-kr><p>" + euc + b"</p>", None).text
    assert sanitise(b"\xff\xfe\x00<p>\x80\x81", "text/html").html.startswith("<!DOCTYPE html>")
