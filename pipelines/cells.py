"""Makes crawled text safe for spreadsheet cells: strips XLSX-illegal characters, defuses formulas."""

from __future__ import annotations

import re

# Characters XML 1.0 (and so XLSX) cannot hold; tab, LF and CR are legal and kept.
ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A cell starting with one of these is read as a formula (or DDE) by Excel or LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """The text with illegal control characters removed and a leading formula trigger defused by `'`.

    Cleaning runs first so that "\\x00=cmd" cannot turn into a live "=cmd" afterwards.
    """
    text = ILLEGAL_XML_CHARS.sub("", value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text
