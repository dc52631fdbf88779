"""Letters of other scripts that read as ASCII (Unicode's UTS #39 confusables data), and the marks and
invisible format characters a poster lays over or inside letters."""

from __future__ import annotations

import json
import string
import unicodedata
from functools import cache

from .tables import stored

_ALNUM = frozenset(string.ascii_letters + string.digits)

# Combining marks (strikethrough U+0335/6/8, underline U+0332, overlays…), variation selectors and
# invisible format characters (soft hyphen, word joiner, bidi controls…): deleted after URL text.
MARK_RANGES = (
    (0x0300, 0x036F), (0x0483, 0x0489), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
    (0xFE00, 0xFE0F), (0xFE20, 0xFE2F), (0xE0100, 0xE01EF), (0x00AD, 0x00AD), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF),
)  # fmt: skip
MARKS = frozenset(chr(cp) for lo, hi in MARK_RANGES for cp in range(lo, hi + 1))


@cache
def lookalikes() -> dict[str, str]:
    """Each non-ASCII character that NFKC leaves alone and that UTS #39 lists as confusable with an ASCII
    letter or digit -> that letter (same case when the data offers one)."""
    table = stored("lookalikes")
    return dict(table) if isinstance(table, dict) else derive_lookalikes()  # type: ignore[arg-type]


def derive_lookalikes() -> dict[str, str]:
    """`lookalikes()`, read from the confusables data (`tables` stores it)."""
    from importlib.resources import files  # only here: importing it costs every process about 6 ms

    data = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    out = {}
    for c, entries in data.items():
        if len(c) != 1 or c.isascii() or unicodedata.normalize("NFKC", c) != c or c in MARKS:
            continue
        # the package lists, for a character, its prototype; for a prototype, every character mapped
        # to it: two steps reach the whole class whichever side `c` is on
        near = {e["c"] for e in entries}
        near |= {x["c"] for e in entries for x in data.get(e["c"], ())}
        ascii_ = sorted(x for x in near if x in _ALNUM)
        if ascii_:
            out[c] = _same_case(c, ascii_)
    return out


def _same_case(c: str, options: list[str]) -> str:
    for x in options:
        if (c.isupper() and x.isupper()) or (c.islower() and x.islower()):
            return x
    letters = [x for x in options if x.isalpha()]
    return (letters or options)[0]
