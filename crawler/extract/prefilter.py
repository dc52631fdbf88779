"""A cheap test that proves a page holds no candidate link, so most forum pages are never parsed.

Python's `re` is fast only with a literal prefix, so the test is mostly `bytes in bytes`:
1. NFKC when the text is not already NFKC (fullwidth, math letters… become ASCII); any zero-width
   character, ideographic full stop or `텔레그램` means "maybe".
2. Fold the UTF-8 bytes in one `translate`: ASCII lower-cased, spaces/tabs/`[](){},` -> `.`,
   non-ASCII -> NUL. Every form of every host the scanner can rebuild then holds a seed: a platform
   word, `.gg/`, `%2e`, base64 `ahr0c`, `.dot.`, `.:.`, a scheme, or a second label (`.me`,
   `.kakao`…) whose first label (`t`, `open`…, or the end of it after a tag) is checked on the hit.
3. HTML entities that decode to URL text.
Tags at the separator (`t.<i>me</i>`, `t<b>.</b>me`) and at the end of a first label are seen; a
tag deep inside a label is not (`dis<b></b>cord.gg`: `.gg/` still is). test_extract_prefilter
proves the superset on every disguise the rules list.
"""

from __future__ import annotations

import html
import re
from functools import cache
from unicodedata import is_normalized

from crawler.extract.normalize import ALWAYS_CHANGED, visible_change

_URLISH = re.compile(r"[A-Za-z0-9./:@+#%-]")
# Planes 0 and 1 hold every character that normalisation maps to URL text (tests check the bound).
_PLANES = 0x20000


def special_chars(limit: int = _PLANES) -> list[str]:
    """Non-ASCII characters that normalisation deletes or turns into URL characters."""
    out = []
    for cp in range(0x80, limit):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or (is_normalized("NFKC", c) and c not in ALWAYS_CHANGED):
            continue
        new = visible_change(c)
        if new is not None and (new == "" or _URLISH.search(new)):
            out.append(c)
    return out


# After folding (ASCII lower-cased; spaces, tabs and `[](){},` -> `.`; see _DROP) every host
# form the scanner can rebuild holds one of these; `in` runs at memchr-like speed.
_FOLD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ[](){}, \t",
    b"abcdefghijklmnopqrstuvwxyz.........",
)
_FOLD_TABLE = bytes(_FOLD[b] if b < 0x80 else 0 for b in range(256))
# Deleting bytes can only join seeds, never break one (seeds are ASCII): non-ASCII bytes, digits
# other than 0 and 2, and punctuation no seed uses go, so the `in` tests scan fewer bytes.
_DROP = bytes(range(0x80, 0x100)) + b"13456789\"'=?!#;-*|~^`$\\\r\n"
_PLAIN_SEEDS = (
    b"telegram", b"discord", b"whatsapp", b"sgnl", b"public_key", b"%2e", b".gg/", b"ahr0c",
    b".dot.", b".:.", b"tg:", b"line:", b"matrix",
)  # fmt: skip
# seed -> what must sit around it (folded; `>` = a tag split the first label) for a candidate
_SECOND = rb"(?:me|gg|kakao|whatsapp|group|to|io|us|dog|com)"
_VERIFIED: tuple[tuple[bytes, re.Pattern[bytes]], ...] = (
    *(
        (
            seed,
            re.compile(
                b"(?:"
                + b"|".join(sorted({n[k:] for n in names for k in range(len(n))}, key=len, reverse=True))
                + rb"|>)\.{1,12}"
                + seed.lstrip(b".")
            ),
        )
        for seed, names in (
            (b".me", (b"t", b"line", b"telegram")),
            (b".kakao", (b"open", b"pf")),
            (b".group", (b"signal",)),
            (b".io", (b"element",)),
            (b".us", (b"band",)),
        )
    ),
)
# A tag right after or before the separator (`t.<i>me</i>`, `t<b>.</b>me`), rebuilt by the DOM walk.
# Searched whole: their two-byte literal prefixes keep `re` fast even when `>.` is everywhere.
_TAG_LABEL = re.compile(rb">\.{0,4}" + _SECOND)  # cheap first test: a second label right after a tag
_TAG_SPLITS = (
    re.compile(rb"\.<(?<=[a-z]\.<)[^<>]{0,64}>(?:<[^<>]{0,64}>)*\.{0,4}" + _SECOND),
    re.compile(rb">\.\.{0,3}(?:<[^<>]{0,64}>)*" + _SECOND),
)
_ENTITY = re.compile(
    rb"&(?!(?:amp|lt|gt|quot|nbsp|apos|#0*3[489]|#0*6[02]|#0*160|#x0*2[267]|#x0*3[ce]|#x0*a0);)"
    rb"[#A-Za-z0-9]{1,32};?"
)
MAX_HITS = 2000  # a page with more seed hits than this is simply parsed


@cache
def _special_set() -> frozenset[str]:
    return frozenset(special_chars())


# Compatibility characters common in Korean posts whose NFKC form cannot build a host or separator.
_HARMLESS_COMPAT = "…‥～！？"


def has_relevant_special(text: str) -> bool:
    """Does the text hold a compatibility character whose NFKC form is URL text (fullwidth `ｔ`…)?"""
    return not is_normalized("NFKC", text) and _relevant_compat(text)


def _relevant_compat(text: str) -> bool:
    for c in _HARMLESS_COMPAT:
        if c in text:
            text = text.replace(c, "")
    return not is_normalized("NFKC", text) and _has_special(text)


def _ranges(cps: list[int]) -> str:
    out = []
    start = prev = cps[0]
    for cp in [*cps[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        out.append(f"\\U{start:08x}" + ("" if start == prev else f"-\\U{prev:08x}"))
        start = prev = cp
    return "[" + "".join(out) + "]"


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@cache
def _special_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # BMP and astral classes apart: a BMP-only class compiles to a bitmap, checked in O(1) per char
    cps = sorted(ord(c) for c in _special_set() - ALWAYS_CHANGED)
    bmp = _ranges([c for c in cps if c < 0x10000])
    astral = _ranges([c for c in cps if c >= 0x10000])
    return re.compile(bmp), re.compile(astral)


def _has_special(text: str) -> bool:
    bmp, astral = _special_res()
    if bmp.search(text) is not None:
        return True
    return _ASTRAL.search(text) is not None and astral.search(text) is not None


def _entity_hit(data: bytes) -> bool:
    for n, m in enumerate(_ENTITY.finditer(data)):
        if n >= MAX_HITS:
            return True
        entity = m.group().decode("ascii")
        decoded = html.unescape(entity)
        if decoded != entity and any(_URLISH.match(c) or visible_change(c) is not None for c in decoded):
            return True
    return False


def maybe_links(content: str | bytes) -> bool:
    """False only when `content` cannot hold an open-channel link in any form the rules list."""
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if not text.isascii():
        if not is_normalized("NFKC", text) and _relevant_compat(text):
            return True  # fullwidth, math letters… that normalise into URL text: let the scanner judge
        if any(c in text for c in ALWAYS_CHANGED) or "텔레그램" in text:
            return True
    raw = text.encode("utf-8", "surrogatepass")
    data = raw.translate(_FOLD_TABLE, _DROP)
    if any(seed in data for seed in _PLAIN_SEEDS):
        return True
    for seed, before in _VERIFIED:
        i = data.find(seed)
        for _ in range(MAX_HITS):
            if i < 0:
                break
            if before.search(data, max(0, i - 24), i + 160):
                return True
            i = data.find(seed, i + 1)
        else:  # very many hits: one search over everything (slower per byte, but no Python loop)
            if before.search(data):
                return True
    if _TAG_LABEL.search(data) and any(rx.search(data) for rx in _TAG_SPLITS):
        return True
    return b"&" in raw and _entity_hit(raw)
