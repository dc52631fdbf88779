"""A link's context collapses only the text it shows, and shows what collapsing all of it would."""

from __future__ import annotations

import random
import re

from linkwatch.extract.page import CONTEXT_MAX, _collapse, context_at, context_bounds

_WS = re.compile(r"\s+")


def _reference(buf: str, pos: int) -> str:
    """context_at as the rules define it: both sides collapsed whole, then cut to CONTEXT_MAX."""
    pos = min(max(pos, 0), len(buf))
    lo, hi = context_bounds(buf, pos)
    left = _WS.sub(" ", buf[lo:pos]).lstrip()
    right = _WS.sub(" ", buf[pos:hi]).rstrip()
    if left.endswith(" ") and right.startswith(" "):
        right = right[1:]
    if len(left) + len(right) <= CONTEXT_MAX:
        return left + right
    keep_left = max(min(len(left), CONTEXT_MAX // 3), CONTEXT_MAX - len(right))
    return (left[len(left) - keep_left :] + right)[:CONTEXT_MAX].strip()


def test_context_equals_collapsing_the_whole_line() -> None:
    # long whitespace runs at the cut, long lines, short lines widened to neighbours, Hangul and ASCII
    pool = ["a", "가나", " ", "   ", "\n", "\t", " " * 700, "x" * 50, "\n\n", "t.me/+SynthCtx1", "다" * 200]
    rng = random.Random(3)
    long_ones = 0
    for _ in range(5000):
        buf = "".join(rng.choice(pool) for _ in range(rng.randint(0, 80)))
        pos = rng.randint(0, len(buf))
        got = context_at(buf, pos)
        assert got == _reference(buf, pos), (buf, pos)
        long_ones += len(got) == CONTEXT_MAX
    assert long_ones > 500


def test_collapse_is_the_whitespace_regex() -> None:
    # split-and-join must collapse exactly what `\s+` does: every whitespace character re knows, at
    # either end, alone, or between Hangul, zero-width and no-break characters
    spaces = [c for c in map(chr, range(0x110000)) if _WS.fullmatch(c)]
    pool = [*spaces, "a", "가", "t.me", "\u200b", "\xa0", "\x1c"]
    rng = random.Random(5)
    for _ in range(20000):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        assert _collapse(s) == _WS.sub(" ", s), repr(s)
