"""Spans of a text widened on both sides and merged where they meet: where a test or a rewrite reads."""

from __future__ import annotations

from collections.abc import Iterable


def padded(spans: Iterable[tuple[int, int]], pad: int, size: int) -> list[tuple[int, int]]:
    """`spans` (start, end), each widened by `pad` within [0, size), sorted and merged where they meet."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        lo, hi = max(0, start - pad), min(size, end + pad)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out
