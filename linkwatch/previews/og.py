"""Reads og:title style preview pages (WhatsApp, KakaoTalk open chat, LINE) into live / dead / unknown.

These pages are not documented by their platforms. What is relied on: a live invite page names the
chat in `og:title` (WhatsApp also in the page heading); an invalid one shows the platform's generic
title and/or a "link is invalid/reset/expired" sentence. Anything else is unknown, never dead.
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

# Generic titles the platforms show instead of a chat name (lower-case, prefix match).
GENERIC = {
    "whatsapp": ("whatsapp group invite", "whatsapp", "share on whatsapp"),
    "kakao": ("kakaotalk", "카카오톡", "오픈채팅", "open chat", "kakao"),
    "line": ("line", "openchat", "line openchat"),
}
# Sentences an invalid invite page shows (lower-case substring match).
DEAD_MARKERS = {
    "whatsapp": ("invite link was reset", "link is no longer valid", "invite link is invalid",
                 "couldn't join this group"),
    "kakao": ("유효하지 않은", "존재하지 않는", "삭제된 오픈채팅방", "no longer available", "invalid link"),
    "line": ("this link is invalid", "has expired", "no longer available", "유효하지 않은"),
}


def parse_og(platform: str, status: int, body: str) -> Preview:
    """live when og:title names the chat; dead on a known invalid-link sentence; else unknown."""
    if status == 404:
        return Preview(DEAD, detail="HTTP 404")
    if status != 200:
        return Preview(UNKNOWN, detail=f"unexpected HTTP {status}")
    doc = html.parse(body)
    raw_title = html.meta(doc, "og:title")
    title = clean_text(raw_title)
    lowered = (doc.body.text(separator=" ") if doc.body is not None else "")[:20000].lower()
    if any(marker in lowered for marker in DEAD_MARKERS.get(platform, ())):
        return Preview(DEAD, detail="invalid-link page")
    generic = GENERIC.get(platform, ())
    if title and title.lower() not in generic:
        description = clean_text(html.meta(doc, "og:description"), DESCRIPTION_MAX)
        # the count is read from the page text without the chat's own (attacker-chosen) name
        rest = lowered.replace((raw_title or "").strip().lower(), " ") if raw_title else lowered
        return Preview(LIVE, title=title, description=description, member_count=parse_count(rest))
    return Preview(UNKNOWN, detail="layout not understood (no chat name)")
