"""Hostile text made safe: terminal control and bidi characters, spreadsheet formulas, passwords."""

from __future__ import annotations

import logging

import pytest

from linkwatch.text import RedactingFilter, for_cell, for_terminal, redact


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\x00=1", "'=1"),            # cleaning first cannot unmask a trigger
        ("a\x07b\x1fc", "abc"),
        ("line\nbreak", "line\nbreak"),
        ("합성 테스트방", "합성 테스트방"),
        ("https://t.me/+synth", "https://t.me/+synth"),
        ("", ""),
        ("'=already", "'=already"),
    ],
)
def test_neutralise(value: str, expected: str) -> None:
    assert for_cell(value) == expected


@pytest.mark.parametrize("hostile", [
    "\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200e", "\u200f", "\u061c", "\x1b", "\x9b", "\x9d", "\x85", "\x00", "\x07", "\x7f",
])
def test_terminal_neutralises_control_and_bidi(hostile: str) -> None:
    shown = for_terminal(f"t.me/+Synth{hostile}Code 합성")
    assert hostile not in shown
    assert shown == "t.me/+Synth\ufffdCode 합성"


def test_terminal_one_line_folds_breaks_and_keeps_them_otherwise() -> None:
    assert for_terminal("a\nb\tc", one_line=True) == "a b c"
    assert for_terminal("a\nb") == "a\nb"


@pytest.mark.parametrize(("message", "expected"), [
    ("cannot connect (postgresql://alice:s3cret@db:5432/x)", "cannot connect (postgresql://alice:***@db:5432/x)"),
    ("invalid dsn: host=db password=s3cret user=a", "invalid dsn: host=db password=*** user=a"),
    ("password='s e c r e t' dbname=x", "password=*** dbname=x"),
    ("postgresql://u@h/db?password=s3cret&sslmode=x", "postgresql://u@h/db?password=***&sslmode=x"),
    ("no secret in https://t.me/+SynthAbc", "no secret in https://t.me/+SynthAbc"),
])
def test_redact(message: str, expected: str) -> None:
    assert redact(message) == expected


def test_the_logging_filter_masks_passwords_in_formatted_records() -> None:
    record = logging.LogRecord("scrapy", logging.INFO, __file__, 1, "Overridden settings: %r",
                               ({"LINKWATCH_DATABASE_URL": "postgresql://lw:s3cret@db/lw"},), None)
    assert RedactingFilter().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "postgresql://lw:***@db/lw" in record.getMessage()
