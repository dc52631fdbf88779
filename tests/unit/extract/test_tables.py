"""The stored Unicode tables: what deriving them gives, used only for the data versions they came from."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from linkwatch.extract import extract, tablegen
from linkwatch.extract import tables as tables_module
from linkwatch.extract.chars import char_classes

# the modules, not the functions the package re-exports under the same names
lookalike = importlib.import_module("linkwatch.extract.lookalike")
normalize = importlib.import_module("linkwatch.extract.normalize")
prefilter = importlib.import_module("linkwatch.extract.prefilter")

_CACHED = (tables_module._stored, lookalike.lookalikes, prefilter._special_set, normalize._changeable)


@pytest.fixture
def fresh_tables():
    """Every table-backed cache emptied before and after the test."""
    for fn in _CACHED:
        fn.cache_clear()
    yield
    for fn in _CACHED:
        fn.cache_clear()


def _no_deriving(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> object:
        raise AssertionError("derived although a table for these versions is stored")

    monkeypatch.setattr(lookalike, "derive_lookalikes", refuse)
    monkeypatch.setattr(normalize, "derive_changeable", refuse)
    monkeypatch.setattr(prefilter, "special_chars", refuse)


def test_the_extractor_tables_equal_deriving_them(fresh_tables: None) -> None:
    # the shipped file, whichever versions it holds: a stored table this Python uses is what deriving
    # gives (`make tables` after a change to what they hold), and one it does not use changes nothing
    derived = tablegen.derive()
    assert lookalike.lookalikes() == derived["lookalikes"]
    assert prefilter._special_set() == frozenset(map(chr, derived["special"]))
    bmp, astral = normalize._changeable()
    want_bmp, want_astral = char_classes(derived["changeable"])
    assert (bmp.pattern, astral.pattern) == (want_bmp.pattern, want_astral.pattern)
    assert len(derived["special"]) > 1000
    assert len(derived["lookalikes"]) > 300


def test_stored_tables_are_read_instead_of_derived(
    fresh_tables: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tablegen.write(tmp_path / "unicode-tables.json")
    monkeypatch.setattr(tables_module, "source", lambda: path)
    _no_deriving(monkeypatch)
    links = extract("<p>ｔ．ｍｅ/+SynthTable1 and t\u0336.\u0336me/+SynthTable2 and t.mе/+SynthTable3</p>")
    assert [link.code for link in links] == ["SynthTable1", "SynthTable2", "SynthTable3"]


@pytest.mark.parametrize("change", ["versions", "broken", "missing"])
def test_tables_for_other_data_versions_are_derived_again(
    fresh_tables: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    # another Python's Unicode data, or another confusables release: the table may differ, so it is not used
    path = tablegen.write(tmp_path / "unicode-tables.json")
    data = json.loads(path.read_text("utf-8"))
    data["lookalikes"] = {}
    if change == "versions":
        data["versions"]["unicodedata"] = "0.0.1"
        path.write_text(json.dumps(data), "utf-8")
    elif change == "broken":
        path.write_text("{not json", "utf-8")
    else:
        path = tmp_path / "absent.json"
    monkeypatch.setattr(tables_module, "source", lambda: path)
    assert tables_module.stored("lookalikes") is None
    assert "е" in lookalike.lookalikes()  # Cyrillic ie, derived again
