"""Stage 1 rewrites only the runs that hold a character it may change, and that changes nothing."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from linkwatch.extract.chars import SPECIAL, char_change
from linkwatch.extract.lookalike import MARKS, lookalikes
from linkwatch.extract.normalize import (
    _LAST_CHANGED,
    _PERCENT,
    _percent,
    _percent_windows,
    _rewrite,
    _stage1,
    stage1_windows,
)
from linkwatch.extract.platforms import KNOWN_HOSTS

# What Korean posts hold around links: Hangul, ASCII, punctuation stage 1 leaves alone (`·`, `…`, arrows,
# emoji, CJK), and what it changes (fullwidth and circled forms, invisible characters, marks, Cyrillic
# look-alikes, mathematical letters).
_POOL = [
    "가입", "문의", " ", "t", "me", ".", "/", "+", "Synth", "9", "·", "…", "→", "👍", "❤️", "漢字", "★",
    "（", "）", "ｔ", "．", "ｍ", "①", "\u200b", "\u0336", "т", "е", "с", "𝐭", "Ⓜ", "é", "ß", "\u00a0",
]  # fmt: skip


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_POOL) for _ in range(rng.randint(1, 60)))


def _changed_alike(texts: list[str], pattern: re.Pattern[str], repl: Callable, windows: Callable) -> int:
    """Asserts that rewriting each text only in its `windows` gives the text and offset map rewriting all of
    it gives; returns how many texts the rewrite changed."""
    changed = 0
    for text in texts:
        whole = _rewrite(text, pattern, repl)
        windowed = _rewrite(text, pattern, repl, windows(text))
        assert windowed[0] == whole[0], text
        assert windowed[1].segs == whole[1].segs, text
        changed += whole[0] != text
    return changed


def test_windowed_stage1_equals_stage1_over_every_run() -> None:
    rng = random.Random(17)
    texts = [_text(rng) for _ in range(3000)]
    assert _changed_alike(texts, SPECIAL, _stage1, stage1_windows) > 1000  # the texts do exercise stage 1


def test_every_character_stage1_may_change_opens_a_window() -> None:
    # NFKC changes are looked for below _LAST_CHANGED only: none lies beyond; marks and look-alikes are
    # taken from their own tables, wherever they lie (variation selectors are in plane 14)
    beyond = (chr(cp) for cp in range(_LAST_CHANGED, 0x110000))
    assert [c for c in beyond if SPECIAL.fullmatch(c) and char_change(c) != c] == []
    for c in sorted(MARKS | set(lookalikes())):
        if SPECIAL.fullmatch(c):
            assert stage1_windows(f"a{c}b") == [(1, 2)], hex(ord(c))


_NOISE = ["가입 ", " ", "url=https%3A%2F%2F", "=", "%", "@", "x", "%2e", "/", "\n", "SynthPct7"]


def _percent_text(rng: random.Random) -> str:
    """Hosts with percent-encoded dots and paths (`t%2Eme%2F%2Bx`), among noise."""
    out = []
    for _ in range(rng.randint(1, 6)):
        host = rng.choice(sorted(KNOWN_HOSTS))
        host = "".join(rng.choice(["%2e", "%2E", "."]) if c == "." else c for c in host)
        path = rng.choice(["%2f", "%2F", "/"]) + rng.choice(["", "joinchat%2F", "o/"])
        path += rng.choice(["", "%2b", "+"])
        out.append(rng.choice(_NOISE) + host + path + "SynthPct7" + rng.choice(_NOISE))
    return "".join(out)


def test_percent_decoding_read_around_its_cues_equals_reading_all() -> None:
    rng = random.Random(29)
    texts = [_percent_text(rng) for _ in range(3000)]
    assert _changed_alike(texts, _PERCENT, _percent, _percent_windows) > 1000
