"""Spreadsheet cell neutralisation: formula triggers defused, XLSX-illegal characters removed."""

from __future__ import annotations

import pytest

from linkwatch.text import for_cell


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
