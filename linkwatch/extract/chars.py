"""What normalisation's first stage does to one character: NFKC, invisible characters, ideographic dots."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# RFC 3454 B.1 "mapped to nothing" (plus LRM/RLM, also invisible).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"
# RFC 3490 3.1: ideographic and halfwidth ideographic full stops are dots (NFKC keeps U+3002).
_DOTS = "\u3002\uff61"
# NFKC would turn these into "..."/".."; the rules say the ellipsis ends a URL, so keep it.
KEPT = frozenset("\u2026\u2025")
ALWAYS_CHANGED = frozenset(ZERO_WIDTH + _DOTS)  # changed although NFKC leaves them alone
# Runs worth NFKC-normalising: non-ASCII except Hangul, kana and CJK ideographs (NFKC leaves them as is).
SPECIAL = re.compile(r"[^\x00-\x7f\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e\u3040-\u30ff\u4e00-\u9fff]+")


@lru_cache(maxsize=4096)
def char_change(c: str) -> str:
    """What the character `c` becomes in stage 1 (itself when nothing applies)."""
    if c in ZERO_WIDTH:
        return ""
    if c in _DOTS:
        return "."
    if c in KEPT:
        return c
    return unicodedata.normalize("NFKC", c)


def visible_change(c: str) -> str | None:
    """What stage 1 turns the character `c` into, or None when it leaves it alone."""
    if not SPECIAL.fullmatch(c):
        return None
    new = char_change(c)
    return None if new == c else new


ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def char_classes(cps: list[int]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Classes matching the sorted code points `cps`: the BMP's and the others' apart, so that the BMP
    class compiles to a bitmap (one test per character; a class with astral ranges is a list walk)."""
    return _class([cp for cp in cps if cp < 0x10000]), _class([cp for cp in cps if cp >= 0x10000])


def _class(cps: list[int]) -> re.Pattern[str]:
    if not cps:
        return re.compile("(?!)")
    ranges = []
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp != prev + 1:
            ranges.append(f"\\U{start:08x}" + ("" if start == prev else f"-\\U{prev:08x}"))
            start = cp
        prev = cp
    return re.compile("[" + "".join(ranges) + "]")


# Entities, cached: pages repeat theirs (`&nbsp;·&nbsp;`, `Q&amp;A`, `&text=` query parts that decode to
# themselves) in the markup's text pieces and in the entities written as text.
unescape = lru_cache(maxsize=4096)(html.unescape)
