"""The result of reading one public preview, and the cleaning every preview text goes through."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LIVE, DEAD, UNKNOWN = "live", "dead", "unknown"
TITLE_MAX = 300
DESCRIPTION_MAX = 2000
DETAIL_MAX = 300

# Control characters (C0 except tab/newline, DEL, C1), bidi overrides, zero-width marks and U+FFFD
# (what HTML parsers make of NUL and bad bytes) are dropped: preview text is attacker-written and
# ends up in terminals, spreadsheets and web pages.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd]")
_SPACES = re.compile(r"\s+")
# "1 234", "1,234", "1.234" or "1234": thousands groups must be exactly three digits, so a title
# ending in digits ("room 7") next to "1 234 members" is not read as 71234.
_COUNT = re.compile(
    r"(?<![\d,.])(\d{1,3}(?:[ ,.\u00a0\u202f']\d{3})+|\d+)\s*(members?|subscribers?|followers?|명)", re.I
)


@dataclass(frozen=True)
class Preview:
    """What a preview said: live / dead / unknown, plus whatever it showed about the chat."""

    result: str
    title: str | None = None
    description: str | None = None
    member_count: int | None = None
    presence_count: int | None = None
    expires_at: str | None = None
    detail: str | None = None
    http_status: int | None = None

    def with_status(self, http_status: int | None) -> Preview:
        """The same preview with the HTTP status that produced it."""
        return Preview(
            self.result, self.title, self.description, self.member_count, self.presence_count,
            self.expires_at, self.detail, http_status,
        )


def clean_text(value: object, limit: int = TITLE_MAX) -> str | None:
    """Hostile preview text made safe to store: NFC, no control/bidi chars, one-line, capped."""
    if value is None:
        return None
    text = str(value)[: limit * 8]  # bound the work before normalising a huge string
    text = unicodedata.normalize("NFC", text)
    text = _BAD_CHARS.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return None
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def parse_count(text: str | None) -> int | None:
    """The first '1 234 members' / '5,678 subscribers' style count in text, else None."""
    if not text:
        return None
    match = _COUNT.search(text[:2000])
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    if not digits or len(digits) > 10:
        return None
    value = int(digits)
    return value if value <= 2_000_000_000 else None


def to_int(value: object) -> int | None:
    """An int from a JSON field when it is a sane non-negative integer, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= 2_000_000_000 else None
