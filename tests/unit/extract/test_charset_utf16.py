"""UTF-16 pages without a byte-order mark are decoded (issue 12.7): no link on them was found before."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("order", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_decoded(order: str) -> None:
    from linkwatch.extract import decode, extract
    from linkwatch.extract.charset import utf16_without_bom

    page = ("<html><head><title>게시판</title></head><body>"
            "<p>참여: https://t.me/+LwUtf16Unit1x 환영</p></body></html>")
    body = page.encode(order)
    assert utf16_without_bom(body) == order
    text = decode(body, "text/html")
    assert text == page
    assert [link.code for link in extract(text)] == ["LwUtf16Unit1x"]
    # neither ASCII-compatible text nor binary zeros are taken for UTF-16
    assert utf16_without_bom(page.encode("utf-8")) is None
    assert utf16_without_bom(bytes(range(256)) * 4) is None
