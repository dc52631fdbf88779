"""The extractor's regexes that test a position's first character first match exactly as without it."""

from __future__ import annotations

import importlib
import random
import re

import pytest

# the modules, not the functions the package re-exports under the same names
scan = importlib.import_module("linkwatch.extract.scan")
spelled = importlib.import_module("linkwatch.extract.spelled")

# Pieces of what each regex looks for, in both cases, with Unicode letters that case-fold to ASCII ones
# (Kelvin sign, long s, dotted I), Hangul spellings, separators and line breaks
_POOL = [
    "t", "T", ".", "me", "ME", "%2e", "%2E", "telegram", "dog", "discord", "kakao", "com", "line", ":",
    "whatsapp", "signal", "group", "sgnl", "matrix", "to", "element", "io", "band", "us", "tg", "public_key=",
    "aHR0cHM6Ly", "aHR0cDovL", "AHR0CHM6LY", "https", "http", "x", " ", "  ", "\n", "/", "+", "가", "\u212a",
    "\u017f",
    "\u0130", "티", "닷", "미", "점", "슬래시", "플러스", "tee", "open", "오픈", "카카오", "디스코드",
    "gg", "지지", "joinchat", "o", "g", "Ab3", "_", "-", "[.]", "(dot)", "·", "🔹",
]  # fmt: skip
# and whole forms, so that the long regexes match often
_FORMS = [
    "t.me/", "티 닷 미 / ", "t . me / +", "discord . gg / ", "open 점 kakao 점 com / o / ", "t🔹me/",
    "T.ME/+", "tee dot me slash ", "https://", "http:", "tg:", "line:", "matrix:", "sgnl:", "a.https:",
    "chat.whatsapp.com/", "텔레그램 . me /", "t\n.\nme\n/\n", "x/\n", "\n.",
]  # fmt: skip


@pytest.mark.parametrize(
    ("rx", "lookahead"),
    [
        (scan.ANCHOR, "(?=[abdeklmpstw])"),
        (scan._SCHEME_IN_TOKEN, "(?=[hlmst])"),
        (scan._SCHEME_IN_LOW, "(?=[hlmst])"),
        (spelled.SPELLED, f"(?=[{re.escape(spelled._FIRST)}])"),
        (spelled._BROKEN, "(?=[\\n./+:])"),
    ],
    ids=["ANCHOR", "scheme", "scheme-low", "SPELLED", "BROKEN"],
)
def test_the_first_character_test_changes_no_match(rx: re.Pattern[str], lookahead: str) -> None:
    assert lookahead in rx.pattern
    plain = re.compile(rx.pattern.replace(lookahead, "", 1), rx.flags)
    rng = random.Random(9)
    matched = 0
    for _ in range(30000):
        text = "".join(rng.choice(_POOL if rng.random() < 0.7 else _FORMS) for _ in range(rng.randint(0, 14)))
        got = [(m.span(), m.groupdict()) for m in rx.finditer(text)]
        assert got == [(m.span(), m.groupdict()) for m in plain.finditer(text)], text
        matched += bool(got)
    assert matched > 1000
