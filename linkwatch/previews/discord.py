"""Reads Discord's public invite API (`GET /invites/CODE?with_counts=true`) into live / dead / unknown.

Shape (Discord API v10 docs, Invite object): 200 with `{"code", "guild": {"name", "description"},
"approximate_member_count", "approximate_presence_count", "expires_at"}`; an unknown or expired
invite is 404 with `{"message": "Unknown Invite", "code": 10006}`.
"""

from __future__ import annotations

import json

from linkwatch.previews.preview import (
    DEAD,
    DESCRIPTION_MAX,
    LIVE,
    UNKNOWN,
    Preview,
    clean_text,
    to_int,
)

UNKNOWN_INVITE = 10006


def parse_discord(status: int, body: str) -> Preview:
    """live on an invite object naming a guild or channel; dead only on error code 10006."""
    try:
        data = json.loads(body[: 256 * 1024]) if body else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Preview(UNKNOWN, detail=f"HTTP {status}, body is not a JSON object")
    if data.get("code") == UNKNOWN_INVITE and status in (404, 400, 200):
        return Preview(DEAD, detail="Unknown Invite (10006)")
    if status != 200:
        return Preview(UNKNOWN, detail=f"unexpected HTTP {status}")
    guild = data.get("guild") if isinstance(data.get("guild"), dict) else {}
    channel = data.get("channel") if isinstance(data.get("channel"), dict) else {}
    title = clean_text(guild.get("name") or channel.get("name"))
    if not title:
        return Preview(UNKNOWN, detail="layout not understood (no guild or channel name)")
    expires = clean_text(data.get("expires_at"), 40) if isinstance(data.get("expires_at"), str) else None
    presence = to_int(data.get("approximate_presence_count"))
    # link_checks has no columns for these; keep them as the check's detail (evidence, not logic)
    notes = [f"{presence} online" if presence is not None else "", f"expires {expires}" if expires else ""]
    return Preview(
        LIVE,
        title=title,
        description=clean_text(guild.get("description"), DESCRIPTION_MAX),
        member_count=to_int(data.get("approximate_member_count")),
        presence_count=presence,
        expires_at=expires,
        detail="; ".join(n for n in notes if n) or None,
    )
