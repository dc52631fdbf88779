"""A cheap test that proves a text holds no candidate link, so most forum pages are never parsed.

It must be a superset of everything the scanner can find after normalisation: every host label
with any separator the rules list (`.`, `[.]`, `(.)`, ` dot `, `,`, `%2e`, spaces), platform words,
`.gg/`, `tg:`, `public_key=`, base64 `http`, every non-ASCII character whose NFKC form holds an
ASCII letter or URL punctuation, zero-width characters, ideographic full stops, and HTML entities
that could spell any of these. tests/unit/test_extract_prefilter.py checks it against the disguises.
"""

from __future__ import annotations

import re
import unicodedata
from html.entities import html5

from crawler.extract.normalize import ZERO_WIDTH

_URLISH = re.compile(r"[A-Za-z./:@+]")
# The blocks holding every character whose NFKC form has an ASCII letter or URL punctuation
# (test_extract_prefilter checks this against the whole of planes 0 and 1), searched at import.
BLOCKS = (
    (0x80, 0x2FF),
    (0x1D00, 0x1EFF),
    (0x2000, 0x2FFF),
    (0x3000, 0x33FF),
    (0xA700, 0xA7FF),
    (0xFB00, 0xFFFF),
    (0x1D400, 0x1D7FF),
    (0x1F100, 0x1F1FF),
)


def _specials(blocks: tuple[tuple[int, int], ...] = BLOCKS) -> list[int]:
    out = []
    for lo, hi in blocks:
        for cp in range(lo, hi + 1):
            c = chr(cp)
            if 0xD800 <= cp <= 0xDFFF:
                continue
            if c in ZERO_WIDTH or c in "\u3002\uff61" or _URLISH.search(unicodedata.normalize("NFKC", c)):
                out.append(cp)
    return out


def _char_class(cps: list[int]) -> str:
    parts = []
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
        start = prev = cp
    return "[" + "".join(parts) + "]"


SPECIAL_CHARS = _specials()
_SPECIAL_SET = frozenset(SPECIAL_CHARS)
# Named entities whose value is a letter, URL punctuation or one of the special characters.
_ENTITY_NAMES = sorted(
    (n.rstrip(";") for n, v in html5.items() if any(ord(c) in _SPECIAL_SET or _URLISH.match(c) for c in v)),
    key=len,
    reverse=True,
)
_SEP = r"(?:[^a-z0-9]{1,9}(?:dot[^a-z0-9]{1,9})?|%2e)"
# Numeric entities are triggers unless they are the harmless quotes/spaces most pages are full of.
_NUMERIC_HARMLESS = (
    r"(?:0*(?:39|34|38|60|62|160|8216|8217|8220|8221|8230|183)"
    r"|x0*(?:27|22|26|3c|3e|a0|2018|2019|201c|201d|2026|b7));"
)

TRIGGER = re.compile(
    r"(?i)telegram|텔레그램|discord|whatsapp|sgnl|public_key|gg/|(?-i:aHR0c)"
    rf"|(?<![a-z0-9])t{_SEP}me(?![a-z0-9])|(?:open|pf){_SEP}kakao|signal{_SEP}group|matrix{_SEP}to|matrix:"
    rf"|element{_SEP}io|band{_SEP}us|line{_SEP}me|line:|tg(?::|\[:\]|\(:\))"
    rf"|&#(?!{_NUMERIC_HARMLESS})[0-9x]"
    rf"|&(?:{'|'.join(re.escape(n) for n in _ENTITY_NAMES)})"
    rf"|(?-i:{_char_class(SPECIAL_CHARS)})"  # outside (?i): U+017F and U+212A fold to ASCII s and k
)


def maybe_links(text: str) -> bool:
    """False only when `text` cannot contain an open-channel link in any form the rules list."""
    return TRIGGER.search(text) is not None
