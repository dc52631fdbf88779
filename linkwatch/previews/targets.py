"""Maps a stored link (platform, kind, code) to the one public preview URL to read, and reads it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from linkwatch.previews.discord import parse_discord
from linkwatch.previews.og import parse_og
from linkwatch.previews.preview import UNKNOWN, Preview
from linkwatch.previews.telegram import parse_telegram

NO_PREVIEW = "no public preview"


@dataclass(frozen=True)
class Bases:
    """Base URLs of the preview endpoints (Config's telegram_url, discord_api_url, …)."""

    telegram: str = "https://t.me"
    discord_api: str = "https://discord.com/api/v10"
    whatsapp: str = "https://chat.whatsapp.com"
    kakao: str = "https://open.kakao.com"
    line: str = "https://line.me"

    @classmethod
    def from_config(cls, config: object) -> Bases:
        """Bases from a linkwatch.config.Config."""
        return cls(
            telegram=config.telegram_url,
            discord_api=config.discord_api_url,
            whatsapp=config.whatsapp_url,
            kakao=config.kakao_url,
            line=config.line_url,
        )


@dataclass(frozen=True)
class Target:
    """One preview request: the platform (for rate limits), the URL and whether the answer is JSON."""

    platform: str
    url: str
    json: bool = False


def _seg(code: str) -> str:
    # Codes come from our own extractor, but the database is not trusted to hold only valid ones.
    return quote(code, safe="")


def target_for(platform: str, kind: str, code: str, bases: Bases) -> Target | None:
    """The preview to read for a link, or None when the platform/kind has no public preview."""
    if not code or len(code) > 300:
        return None
    if platform == "telegram":
        base = bases.telegram.rstrip("/")
        if kind == "invite":
            return Target("telegram", f"{base}/+{_seg(code)}")
        if kind == "folder":
            return Target("telegram", f"{base}/addlist/{_seg(code)}")
        if kind in ("public_channel", "message"):
            return Target("telegram", f"{base}/{_seg(code)}")
        return None
    if platform == "discord" and kind == "invite":
        return Target("discord", f"{bases.discord_api.rstrip('/')}/invites/{_seg(code)}?with_counts=true",
                      json=True)
    if platform == "whatsapp" and kind == "invite":
        return Target("whatsapp", f"{bases.whatsapp.rstrip('/')}/{_seg(code)}")
    if platform == "kakao" and kind in ("invite", "open_profile"):
        part = "o" if kind == "invite" else "me"
        return Target("kakao", f"{bases.kakao.rstrip('/')}/{part}/{_seg(code)}")
    if platform == "line":
        if kind == "invite":
            return Target("line", f"{bases.line.rstrip('/')}/R/ti/g/{_seg(code)}")
        if kind == "openchat":
            return Target("line", f"{bases.line.rstrip('/')}/ti/g2/{_seg(code)}")
    return None


def parse_response(target: Target, status: int, body: str) -> Preview:
    """The preview a response shows; blocked, rate-limited or odd answers are unknown, never dead."""
    if status == 429:
        return Preview(UNKNOWN, detail="rate limited", http_status=status)
    if status in (401, 403):
        return Preview(UNKNOWN, detail=f"blocked (HTTP {status})", http_status=status)
    if status >= 500:
        return Preview(UNKNOWN, detail=f"server error (HTTP {status})", http_status=status)
    if target.platform == "telegram":
        preview = parse_telegram(status, body)
    elif target.platform == "discord":
        preview = parse_discord(status, body)
    else:
        preview = parse_og(target.platform, status, body)
    return preview.with_status(status)
