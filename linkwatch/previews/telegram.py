"""Reads t.me preview pages (invite, public username, folder) into live / dead / unknown.

Shape (public t.me pages as served to a browser without Telegram installed): a live chat has
`<div class="tgme_page_title">` with the name and `<div class="tgme_page_extra">1 234 members,
56 online</div>` (channels: "subscribers"); an expired or unknown invite keeps the `tgme_page`
frame but has no title and says "If you have Telegram, you can contact … right away." or shows
the generic "Join group chat on Telegram" og:title.
"""

from __future__ import annotations

from linkwatch.previews import html
from linkwatch.previews.preview import (
    DEAD,
    DESCRIPTION_MAX,
    LIVE,
    UNKNOWN,
    Preview,
    clean_text,
    parse_count,
)

GENERIC_TITLES = ("join group chat on telegram", "telegram: contact", "telegram messenger")


def parse_telegram(status: int, body: str) -> Preview:
    """live when the page names the chat; dead when the t.me frame is there but names nothing."""
    if status != 200:
        return Preview(UNKNOWN, detail=f"unexpected HTTP {status}")
    doc = html.parse(body)
    if doc.css_first(".tgme_page") is None and doc.css_first(".tgme_page_wrap") is None:
        return Preview(UNKNOWN, detail="layout not understood (no tgme_page)")
    title = clean_text(html.text_of(doc, ".tgme_page_title"))
    extra = html.text_of(doc, ".tgme_page_extra")
    description = clean_text(
        html.text_of(doc, ".tgme_page_description") or html.meta(doc, "og:description"),
        DESCRIPTION_MAX,
    )
    if title:
        return Preview(LIVE, title=title, description=description, member_count=parse_count(extra))
    og_title = (html.meta(doc, "og:title") or "").strip().lower()
    if og_title and not og_title.startswith(GENERIC_TITLES):
        # A named og:title without the title block: a layout we do not know; never guess dead.
        return Preview(UNKNOWN, detail="layout not understood (og:title without tgme_page_title)")
    return Preview(DEAD, detail="no chat title (expired or unknown invite)")
