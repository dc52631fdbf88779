"""Undo the disguises forums use (NFKC, zero-width, defanged dots, spaced hosts) while tracking offsets.

The normalised text is what the scanner matches; `OffsetMap` maps a span of it back to the text as
written, so each link keeps its `raw` form and is `obfuscated` exactly when the two differ.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache

from .platforms import KNOWN_HOSTS

# RFC 3454 B.1 "mapped to nothing" (plus LRM/RLM, also invisible).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"
# RFC 3490 3.1: ideographic and halfwidth ideographic full stops are dots (NFKC keeps U+3002).
_DOTS = "\u3002\uff61"
# NFKC would turn these into "..."/".."; the rules say the ellipsis ends a URL, so keep it.
_KEEP = frozenset("\u2026\u2025")
ALWAYS_CHANGED = frozenset(ZERO_WIDTH + _DOTS)  # changed although NFKC leaves them alone
# Runs worth NFKC-normalising: non-ASCII except Hangul, kana and CJK ideographs (NFKC leaves them as is).
_SPECIAL = re.compile(r"[^\x00-\x7f\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e\u3040-\u30ff\u4e00-\u9fff]+")


@lru_cache(maxsize=4096)
def _char(c: str) -> str:
    if c in ZERO_WIDTH:
        return ""
    if c in _DOTS:
        return "."
    if c in _KEEP:
        return c
    return unicodedata.normalize("NFKC", c)


def visible_change(c: str) -> str | None:
    """What stage 1 turns the character `c` into, or None when it leaves it alone."""
    if not _SPECIAL.fullmatch(c):
        return None
    new = _char(c)
    return None if new == c else new


def _stage1(m: re.Match[str]) -> str:
    return "".join(_char(c) for c in m.group())


_SP = r"[ \t]{0,3}"
_DOT = rf"(?:{_SP}(?:\.|\[\.\]|\(\.\)|\{{\.\}}|\[dot\]|\(dot\)|\{{dot\}}){_SP}|[ \t]{{1,3}}dot[ \t]{{1,3}})"
_DISCORD_DOT = rf"(?:{_DOT}|{_SP},{_SP})"


def _fuzzy(host: str) -> str:
    sep = _DISCORD_DOT if host.startswith("discord") else _DOT
    return sep.join(re.escape(label) for label in host.split("."))


_HOSTS_SORTED = sorted({*KNOWN_HOSTS, "whatsapp.com"}, key=len, reverse=True)
# Every alternative below starts with one of these characters; testing it first (one class test per
# position) spares trying the whole alternation at each of them, which re does without a literal prefix.
_STAGE2_FIRST = "".join(sorted({h[0] for h in _HOSTS_SORTED} | set("h.[({")))
_STAGE2 = re.compile(
    r"(?i)"
    rf"(?=[{re.escape(_STAGE2_FIRST)}])"
    r"(?:(?P<scheme>\b(?:https?|hxxps?)[ \t]{0,3}(?::|\[:\])[ \t]{0,3}/[ \t]{0,3}/[ \t]{0,3})"
    rf"|(?P<host>(?<![A-Za-z0-9-])(?:{'|'.join(_fuzzy(h) for h in _HOSTS_SORTED)})(?![A-Za-z0-9-])"
    r"(?:[ \t]{1,3}slash[ \t]{1,3})?)"
    r"|(?P<gg>(?<![A-Za-z0-9-])(?:\.|\[\.\]|\(\.\))gg/)"
    r"|(?P<dot>\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})"
    r"|(?P<colon>\[:\]|\(:\))"
    r"|(?P<hxxp>\bhxxp))"
)
_SEP_RE = re.compile(
    r"(?i)[ \t]*(?:\[dot\]|\(dot\)|\{dot\}|\[\.\]|\(\.\)|\{\.\}|\.|,|(?<=[ \t])dot(?=[ \t]))[ \t]*"
)


def _stage2(m: re.Match[str]) -> str:
    kind = m.lastgroup
    text = m.group()
    if kind == "scheme":
        return re.sub(r"(?i)hxxp", "http", re.sub(r"[ \t]|\[|\]", "", text))
    if kind == "host":
        slash = re.search(r"(?i)[ \t]+slash[ \t]+$", text)
        body = text[: slash.start()] if slash else text
        return _SEP_RE.sub(".", body) + ("/" if slash else "")
    if kind == "gg":
        return "discord.gg/"
    if kind == "dot":
        return "."
    if kind == "colon":
        return ":"
    return "http"


class OffsetMap:
    """Maps spans of a rewritten string back to the string it was rewritten from."""

    def __init__(self) -> None:
        self.out_starts: list[int] = []
        self.segs: list[tuple[int, int, int, int]] = []  # (out_start, out_end, in_start, in_end)

    def start(self, p: int) -> int:
        i = bisect_right(self.out_starts, p) - 1
        if i < 0:
            return p
        _, oe, is_, ie = self.segs[i]
        return is_ if p < oe else ie + (p - oe)

    def end(self, p: int) -> int:
        i = bisect_right(self.out_starts, p - 1) - 1
        if i < 0:
            return p
        _, oe, _, ie = self.segs[i]
        return ie if p <= oe else ie + (p - oe)


def _rewrite(
    text: str, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]
) -> tuple[str, OffsetMap]:
    out: list[str] = []
    omap = OffsetMap()
    last = 0
    out_len = 0
    for m in pattern.finditer(text):
        new = repl(m)
        old = m.group()
        if new == old:
            continue
        out.append(text[last : m.start()])
        out_len += m.start() - last
        omap.out_starts.append(out_len)
        omap.segs.append((out_len, out_len + len(new), m.start(), m.end()))
        out.append(new)
        out_len += len(new)
        last = m.end()
    if not omap.segs:
        return text, omap
    out.append(text[last:])
    return "".join(out), omap


_STAGE2_MARKERS = (
    "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[:]", "(:)", "hxxp", ".gg/", " dot", "dot ",
)  # fmt: skip
_LABELS = r"(?:me|dog|gg|com|kakao|whatsapp|group|to|io|us)(?![a-z0-9-])"
_SPACED_AFTER = re.compile(r"\.[ \t]{1,3}" + _LABELS)
_SPACED_BEFORE = re.compile(r"[ \t]{1,3}\." + _LABELS)
_SPACED_SCHEME = re.compile(r"(?:https?|hxxps?)(?:[ \t]{1,3}:|:[ \t]{1,3}/|:/[ \t]{1,3}/|://[ \t])")


def _needs_stage2(text: str) -> bool:
    """Cheap literal tests: does the text hold any ASCII disguise stage 2 undoes?"""
    low = text.lower()
    if any(m in low for m in _STAGE2_MARKERS):
        return True
    if ("discord" in low and "," in low) or ("\t" in low and "\tdot" in low):
        return True
    if (" ." in low or "\t." in low) and _SPACED_BEFORE.search(low):
        return True
    if (". " in low or ".\t" in low) and _SPACED_AFTER.search(low):
        return True
    return ("http" in low or "hxxp" in low) and _SPACED_SCHEME.search(low) is not None


def _needs_stage1(text: str) -> bool:
    if text.isascii():
        return False
    from .prefilter import has_relevant_special  # a cycle at import time otherwise

    return any(c in text for c in ALWAYS_CHANGED) or has_relevant_special(text)


class Normalised:
    """The text with disguises undone, and a way back to the original offsets."""

    def __init__(self, text: str) -> None:
        self.original = text
        if _needs_stage1(text):
            t1, self._m1 = _rewrite(text, _SPECIAL, _stage1)
        else:
            t1, self._m1 = text, OffsetMap()
        if _needs_stage2(t1):
            self.text, self._m2 = _rewrite(t1, _STAGE2, _stage2)
        else:
            self.text, self._m2 = t1, OffsetMap()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text that produced text[start:end]."""
        s = self._m1.start(self._m2.start(start))
        e = self._m1.end(self._m2.end(end))
        return s, max(s, e)
