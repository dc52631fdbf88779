"""Hostile text made safe where people see it: terminals, spreadsheet cells, messages with secrets."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls (U+0080-U+009F: 8-bit CSI/OSC on some terminals)
# and the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069, U+061C, U+200E/F)
# that make a terminal show text in another order than it is stored ("Trojan Source").
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")

# Characters XML 1.0 (and so XLSX) cannot hold; tab, LF and CR are legal and kept.
ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A cell starting with one of these is read as a formula (or DDE) by Excel or LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# user:password@ in URLs, password=... in libpq key/value strings and query parameters.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@\s/]*(@)")
_KV_PASSWORD = re.compile(r"(?i)\b(password|passwd|pwd)(\s*=\s*|%3D)('[^']*'|[^\s&;,)]+)")


def for_terminal(value: object, *, one_line: bool = False) -> str:
    """Crawled text as it may be printed: control and bidi characters shown as U+FFFD.

    `one_line` also folds line breaks and tabs into one space (table cells, one-line fields).
    """
    text = "" if value is None else str(value)
    if one_line:
        text = _LINE_BREAKS.sub(" ", text)
    return _TERMINAL_UNSAFE.sub("\ufffd", text)


# JSON escapes C0 itself; these it would print raw (ensure_ascii=False keeps Korean readable).
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_for_terminal(value: Any, **kwargs: Any) -> str:
    """json.dumps for output a person may see: Korean as is, but control and bidi characters escaped
    as \\uXXXX, so the data stays exact and the terminal stays in order."""
    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def for_cell(value: str) -> str:
    """The text with illegal control characters removed and a leading formula trigger defused by `'`.

    Cleaning runs first so that "\\x00=cmd" cannot turn into a live "=cmd" afterwards.
    """
    text = ILLEGAL_XML_CHARS.sub("", value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def redact(text: str) -> str:
    """The message with every password in it (URL user info, password=…) replaced by ***."""
    text = _URL_PASSWORD.sub(r"\1***\2", text)
    return _KV_PASSWORD.sub(r"\1\2***", text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks passwords in every record a handler writes (Scrapy logs its settings,
    which hold the database URL, at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
