"""Known URL shorteners: they hide the destination, so the crawler resolves them (one HEAD) and asks again."""

from __future__ import annotations

import html
import re

SHORTENERS: tuple[str, ...] = (
    "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "v.gd", "buff.ly",
    "cutt.ly", "rebrand.ly", "shorturl.at", "rb.gy", "t.ly", "tiny.cc", "s.id", "lnkd.in",
    "me2.do", "han.gl", "vo.la", "url.kr", "bitly.kr", "zrr.kr", "c11.kr", "naver.me", "kko.to",
)  # fmt: skip
_URL = re.compile(
    r"(?i)(?<![A-Za-z0-9.-])(?:https?://)?(?:www\.)?("
    + "|".join(re.escape(h) for h in sorted(SHORTENERS, key=len, reverse=True))
    + r")/([A-Za-z0-9_-][A-Za-z0-9_/-]{0,200})"
)


def shortener_urls(content: str, base_url: str | None = None) -> list[str]:
    """`https://<shortener>/<path>` for each shortener link in the page (text or attributes), deduplicated."""
    if "&" in content:
        content = html.unescape(content)
    out: dict[str, None] = {}
    for m in _URL.finditer(content):
        out.setdefault(f"https://{m.group(1).lower()}/{m.group(2).rstrip('/')}", None)
    return list(out)
