"""Undo the disguises forums use (NFKC, zero-width, defanged dots, spaced hosts…) while tracking offsets.

The normalised text is what the scanner matches; `OffsetMap` maps a span of it back to the text as
written, so each link keeps its `raw` form and is `obfuscated` exactly when the two differ. Stages:
entities written as text; characters (NFKC, invisible, look-alike letters, marks over letters);
ASCII refanging (`[.]`, `hxxp`, spaced hosts); hosts and paths written out (`spelled`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from unicodedata import is_normalized

from .chars import ALWAYS_CHANGED, ASTRAL, KEPT, SPECIAL, char_change, char_classes, unescape
from .lookalike import MARKS, lookalikes
from .platforms import KNOWN_HOSTS
from .prefilter import has_relevant_special
from .spelled import SPELLED, spelled, spelled_windows
from .tables import stored
from .windows import padded

_URL_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./:+%@_-#?=&~")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _stage1(m: re.Match[str]) -> str:
    """One run of special characters. Marks and invisible characters right after URL text go; letters
    of other scripts become the ASCII letter they read as when the run sits against ASCII letters or
    digits and holds no letter that reads as nothing ASCII (a Russian word stays Russian)."""
    run = m.group()
    text, start, end = m.string, m.start(), m.end()
    before = text[start - 1] if start else ""
    near_ascii = before in _ALNUM or (end < len(text) and text[end] in _ALNUM)
    look = lookalikes() if near_ascii else {}
    if look and any(c.isalpha() and c not in look and char_change(c) == c for c in run):
        look = {}
    out = []
    prev = before
    for c in run:
        if c in MARKS and prev in _URL_ASCII:
            continue  # over or inside URL text: `t̶.̶m̶e̶`, `open.kakao.c\u00adom`
        new = look.get(c) or char_change(c)
        out.append(new)
        prev = new[-1:] if new else prev
    return "".join(out)


_LAST_CHANGED = 0x30000  # no character above planes 0-2 changes in stage 1 (a test checks)


@cache
def _changeable() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Characters `_stage1` may change, in some context (NFKC-changed, invisible, marks, look-alikes)."""
    table = stored("changeable")
    return char_classes(table if isinstance(table, list) else derive_changeable())


def derive_changeable(looks: Iterable[str] | None = None) -> list[int]:
    """The code points `_changeable` matches, from this Python's Unicode data (`tables` stores them).
    `looks`: the look-alike characters (default: `lookalikes()`)."""
    nfkc = (chr(cp) for cp in range(0x80, _LAST_CHANGED) if not 0xD800 <= cp <= 0xDFFF)
    changed = {c for c in nfkc if not is_normalized("NFKC", c)} | ALWAYS_CHANGED | MARKS
    changed |= set(lookalikes() if looks is None else looks)
    return sorted(ord(c) for c in changed if SPECIAL.fullmatch(c) and c not in KEPT)


def stage1_windows(text: str) -> list[tuple[int, int]]:
    """The runs of special characters (`chars.SPECIAL`) that hold a character `_stage1` may change: the
    only ones it rewrites (pages are full of `·`, `…`, arrows and emoji, which it leaves alone)."""
    bmp, astral = _changeable()
    found = [m.start() for m in bmp.finditer(text)]
    if ASTRAL.search(text) is not None:
        found = sorted(found + [m.start() for m in astral.finditer(text)])
    out: list[tuple[int, int]] = []
    for p in found:
        if out and p < out[-1][1]:
            continue  # in the run already taken
        lo = p
        floor = out[-1][1] if out else 0
        while lo > floor and SPECIAL.match(text, lo - 1, lo):  # back to the start of the run
            lo -= 1
        run = SPECIAL.match(text, p)
        out.append((lo, run.end() if run else p + 1))
    return out


# Entities written as text (a page that shows `t&#x2E;me`, its source holding `t&amp;#x2E;me`).
_ENTITY_TEXT = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,10});?")


def _entity(m: re.Match[str]) -> str:
    return unescape(m.group())


# A host written with `%2E` for its dots, or a path with `%2F`/`%2B`: decoded where the token starts
# (never inside another URL's query, where an encoded URL is a redirect the resolver unwraps).
_PCT = r"(?:\.|%2[eE])"
_PCT_HOSTS = "|".join(
    _PCT.join(re.escape(x) for x in h.split(".")) for h in sorted(KNOWN_HOSTS, key=len, reverse=True)
)
_PCT_SLASH = r"(?:%2[fF]|/)"
_PERCENT = re.compile(
    rf"(?i)(?<![A-Za-z0-9%=/.@_-])(?P<host>{_PCT_HOSTS})"
    rf"(?P<path>{_PCT_SLASH}(?:(?:joinchat|o|invite){_PCT_SLASH})?(?:%2[bB]|\+)?)"
)


# A match `_percent` changes holds one of these: a percent-encoded dot, a percent-encoded slash right
# after a host's last label or a path word, or a percent-encoded plus after a slash (share links'
# `https%3A%2F%2Fboard.example.kr%2F…` hold none). It is at most about 45 characters long (the longest
# host, its dots encoded, then `%2Fjoinchat%2F%2B`).
_PCT_LABELS = tuple(sorted({h.rsplit(".", 1)[-1] for h in KNOWN_HOSTS} | {"joinchat", "o", "invite"}))
# Those cues as one search (a literal `%2` first: re finds them at memchr speed), each kind of `%2?` with
# what must come before it. Case-insensitive, as the test it replaced (which lower-cased the text).
_PCT_CUE = re.compile(
    r"(?i)%2(?:e|(?<=/%2)b|(?<=%2f%2)b|" + "|".join(f"(?<={re.escape(w)}%2)f" for w in _PCT_LABELS) + ")"
)
_PCT_REACH = 64


def _percent_windows(text: str) -> list[tuple[int, int]]:
    """The spans of `text` where `_PERCENT` may change something: around each cue (share links and
    redirects are full of `%3A%2F%2F`: the rest of the text is not read)."""
    return padded((m.span() for m in _PCT_CUE.finditer(text)), _PCT_REACH, len(text))


def _percent(m: re.Match[str]) -> str:
    if "%" not in m.group():
        return m.group()
    host = re.sub(r"%2[eE]", ".", m.group("host")).lower()
    path = re.sub(r"%2[fF]", "/", m.group("path"))
    return host + re.sub(r"%2[bB]", "+", path)


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


_PLAIN_HOST = re.compile(r"[A-Za-z0-9.-]+")


def _stage2(m: re.Match[str]) -> str:
    kind = m.lastgroup
    text = m.group()
    if kind == "scheme":
        return re.sub(r"(?i)hxxp", "http", re.sub(r"[ \t]|\[|\]", "", text))
    if kind == "host":
        if _PLAIN_HOST.fullmatch(text):
            return text  # written plainly (`t.me`): nothing to undo, and pages hold many
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


def _in_windows(
    text: str, pattern: re.Pattern[str], windows: list[tuple[int, int]]
) -> Iterator[re.Match[str]]:
    for lo, hi in windows:
        yield from pattern.finditer(text, lo, hi)


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
    text: str,
    pattern: re.Pattern[str],
    repl: Callable[[re.Match[str]], str],
    windows: list[tuple[int, int]] | None = None,
) -> tuple[str, OffsetMap]:
    """`text` with each match of `pattern` replaced (only in `windows`, sorted spans, when given)."""
    out: list[str] = []
    omap = OffsetMap()
    last = 0
    out_len = 0
    found = pattern.finditer(text) if windows is None else _in_windows(text, pattern, windows)
    for m in found:
        if m.start() < last:
            continue  # overlapping windows saw it already
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
# every label that follows a dot in a known host (`element` of `app.element.io` too)
_LABELS = "(?:" + "|".join(sorted({x for h in _HOSTS_SORTED for x in h.split(".")[1:]})) + ")(?![a-z0-9-])"
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
    if any(c in text for c in ALWAYS_CHANGED) or has_relevant_special(text):
        return True
    for n, m in enumerate(_TOUCHING.finditer(text)):  # other scripts' characters touching URL text
        if n > 5000:
            return True  # a text in another script: read it all
        c = m.group("c") or m.group("c2")
        if (c in MARKS and m.group("before")) or c in lookalikes():  # the data loads on first use
            return True
    return False


# A non-ASCII character (not Hangul or CJK) right after URL text or right before an ASCII letter or digit.
_TOUCHING = re.compile(
    r"(?P<before>[!-~])(?P<c>[^\x00-\x7f\uac00-\ud7a3\u3131-\u318e\u4e00-\u9fff])"
    r"|(?P<c2>[^\x00-\x7f\uac00-\ud7a3\u3131-\u318e\u4e00-\u9fff])(?=[A-Za-z0-9])"
)


class Normalised:
    """The text with disguises undone, and a way back to the original offsets."""

    def __init__(self, text: str) -> None:
        self.original = text
        self._maps: list[OffsetMap] = []
        t = text
        if "&" in t and _ENTITY_TEXT.search(t):
            t = self._apply(t, _ENTITY_TEXT, _entity)
        if _needs_stage1(t):
            t = self._apply(t, SPECIAL, _stage1, stage1_windows(t))
        if "%" in t and (windows := _percent_windows(t)):
            t = self._apply(t, _PERCENT, _percent, windows)
        windows = spelled_windows(t)
        if windows:  # before refanging: it reads `t . me / + x` whole
            t = self._apply(t, SPELLED, spelled, windows)
        if _needs_stage2(t):
            t = self._apply(t, _STAGE2, _stage2)
        self.text = t

    def _apply(
        self,
        text: str,
        pattern: re.Pattern[str],
        repl: Callable[[re.Match[str]], str],
        windows: list[tuple[int, int]] | None = None,
    ) -> str:
        new, omap = _rewrite(text, pattern, repl, windows)
        if omap.segs:
            self._maps.append(omap)
        return new

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text that produced text[start:end]."""
        s, e = start, end
        for omap in reversed(self._maps):
            s, e = omap.start(s), omap.end(e)
        return s, max(s, e)
