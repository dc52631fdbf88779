"""Cut candidate URLs out of running text (TDLib fix_url style) and judge them; linear in the text."""

from __future__ import annotations

import re
from typing import NamedTuple

from .normalize import Normalised
from .platforms import KNOWN_HOSTS, Found, valid_username
from .prefilter import maybe_links
from .resolve import MAX_URL, resolve


class Hit(NamedTuple):
    """One link occurrence in a text: where it starts/ends in the text as written, and how it was written."""

    start: int
    end: int
    found: Found
    redirect: bool
    raw: str
    obfuscated: bool


def _dotted(host: str) -> str:
    return re.escape(host).replace(r"\.", r"(?:\.|%2[eE])")


_HOSTS = sorted(KNOWN_HOSTS, key=len, reverse=True)
# Anything that can be part of a link we judge; the scanner only looks at tokens holding one of these.
# The lookahead (every alternative's first letter) is one class test per position, where `re` would try
# each case-insensitive alternative in turn: twice as fast on a long value that holds none.
ANCHOR = re.compile(
    r"(?i)(?=[abdeklmpstw])(?:t(?:\.|%2e)me\b|telegram(?:\.|%2e)(?:me|dog)|discord|kakao(?:\.|%2e)com"
    r"|line(?:\.|%2e)me|\bline:|whatsapp(?:\.|%2e)com|signal(?:\.|%2e)group|\bsgnl:|matrix(?:\.|%2e)to"
    r"|\bmatrix:|element(?:\.|%2e)io|band(?:\.|%2e)us|\btg:|public_key=|(?-i:aHR0cHM6Ly|aHR0cDovL))"
)
_HOST_IN_TOKEN = re.compile("(?i)" + "|".join(_dotted(h) for h in _HOSTS))
_SCHEME_IN_TOKEN = re.compile(r"(?i)(?=[hlmst])(?<![A-Za-z0-9+.-])(?:https?|sgnl|tg|line|matrix):")
# Rules "Cutting codes out of running text": a token is a run of ASCII URL characters; whitespace,
# non-ASCII, quotes, angle, square and curly brackets end it.
_TOKEN_CHARS = r"!#-;=?-Z\\^-z|~"  # noqa: S105 - a character class, not a secret
_TOKEN = re.compile(f"[{_TOKEN_CHARS}]+")
_TOKEN_REV = re.compile(f"[{_TOKEN_CHARS}]*")
_HOSTCH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_TRAIL = ".:;,('?!`"
_LEFT_MAX = 8192
# Rules "Normalisation" 4: a platform word right before a bare @username.
# Rules "Normalisation" 4 and issue #18: instructions a Korean reader takes for a chat address. Each
# needs the platform word and either an id word, a colon, or a verb of searching or contacting.
_NAME = r"@(?P<name>[A-Za-z][A-Za-z0-9_]{4,31})(?![A-Za-z0-9_-])"
_SP3 = r"[ \t]{0,3}"
_HANDLES = tuple(
    re.compile("(?i)" + p)
    for p in (
        # 텔레그램 @name, Telegram ID: @name, 텔레그램 아이디는 @name, Telegram: search @name,
        # 텔레그램 검색창에 @name
        rf"(?:텔레그램|telegram)(?:{_SP3}(?:아이디|id|계정)(?:는|은)?)?{_SP3}[:：]?{_SP3}"
        rf"(?:(?:search|검색창에|검색){_SP3})?{_NAME}",
        # 텔레 아이디: @name (the short word needs the id word)
        rf"텔레(?!그램){_SP3}(?:아이디|id|계정)(?:는|은)?{_SP3}[:：]?{_SP3}{_NAME}",
        # 텔레 @name 으로 연락 (or a verb of contacting right after the name)
        rf"텔레(?!그램){_SP3}{_NAME}(?={_SP3}(?:으로|로)?{_SP3}(?:연락|문의|추가|dm|디엠))",
        # 텔레그램에서 @name 검색 (a verb of searching right after the name)
        rf"(?:텔레그램|텔레)(?:에서|에){_SP3}{_NAME}(?={_SP3}(?:을|를)?{_SP3}(?:검색|찾|치|입력))",
    )
)


_HOST_BACK = re.compile(r"(?:[A-Za-z0-9.-]|[eE]2%)*")  # host characters, read backwards


def _host_start(token: str, i: int) -> int | None:
    """Where a scheme-less URL whose known host matched at token[i] starts, or None if it is not a start."""
    # the run of host characters before i, read backwards in one match (JavaScript is long runs of them)
    run = _HOST_BACK.match(token[max(0, i - 256) : i][::-1])
    h = i - run.end() if run is not None and run.end() < 253 else _host_back_slowly(token, i)
    return _start_ok(token, h, i)


def _host_back_slowly(token: str, i: int) -> int:
    h = i
    while h > 0 and i - h < 253:
        if token[h - 1] in _HOSTCH:
            h -= 1
        elif h >= 3 and token[h - 3 : h].lower() == "%2e":
            h -= 3
        else:
            break
    return h


def _start_ok(token: str, h: int, i: int) -> int | None:
    while h < i and token[h] in ".-":  # a host starts with a letter or digit
        h += 1
    before = token[h - 1] if h > 0 else ""
    if before in ("%", "@"):
        return None  # inside a percent-encoded value (`%2Ft.me`) or userinfo: the outer URL is judged
    if before == "/":
        if token[max(0, h - 3) : h] == "://":
            return None  # covered by the scheme start
        if token[max(0, h - 2) : h] != "//":
            return None  # a path segment of another URL
    return h


# The same two searches on the lower-cased token, as plain literal alternations: far cheaper than a
# case-insensitive one (re tries those at every position).
_SCHEME_IN_LOW = re.compile(r"(?=[hlmst])(?<![a-z0-9+.-])(?:https?|sgnl|tg|line|matrix):")
_HOST_IN_LOW = re.compile("|".join(re.escape(h) for h in _HOSTS))


def _starts(token: str) -> list[int]:
    low = token.lower()
    if "%2e" in low or len(low) != len(token):  # a percent-encoded dot in a host: the regexes see it
        starts = {m.start() for m in _SCHEME_IN_TOKEN.finditer(token)}
        hosts = [m.start() for m in _HOST_IN_TOKEN.finditer(token)]
    else:
        starts = {m.start() for m in _SCHEME_IN_LOW.finditer(low)}
        hosts = [m.start() for m in _HOST_IN_LOW.finditer(low)]
    for i in hosts:
        h = _host_start(token, i)
        if h is not None:
            starts.add(h)
    if not starts:
        first = re.search(r"[A-Za-z0-9]", token)
        if first:
            starts.add(first.start())
    return sorted(starts)


def clean(candidate: str) -> str:
    """TDLib fix_url: cut at an unbalanced closing bracket, then strip trailing punctuation."""
    if ")" in candidate:
        depth = 0
        for i, ch in enumerate(candidate):
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    candidate = candidate[:i]
                    break
                depth -= 1
    return candidate.rstrip(_TRAIL)


# ANCHOR as literals: `str.find` on the lower-cased text is far faster than a case-insensitive
# alternation (which `re` tries at every position).
_ANCHOR_WORDS = (
    "t.me", "telegram.", "discord", "kakao.com", "line.me", "line:", "whatsapp.com", "signal.group",
    "sgnl:", "matrix.to", "matrix:", "element.io", "band.us", "tg:", "public_key=", "%2e",
)  # fmt: skip
_ANCHOR_CASED = ("aHR0cHM6Ly", "aHR0cDovL")


def _anchor_starts(text: str) -> list[tuple[int, int]]:
    """(start, end) of every anchor occurrence, sorted."""
    low = text.lower()
    if len(low) != len(text):  # a rare character whose lower case is longer: use the regex
        return [(m.start(), m.end()) for m in ANCHOR.finditer(text)]
    out = []
    for words, hay in ((_ANCHOR_WORDS, low), (_ANCHOR_CASED, text)):
        for word in words:
            i = hay.find(word)
            while i >= 0:
                out.append((i, i + len(word)))
                i = hay.find(word, i + 1)
    out.sort()
    return out


def _candidates(text: str) -> list[tuple[int, str]]:
    """(offset, cleaned URL) for each candidate in the text, in order, in linear time."""
    out: list[tuple[int, str]] = []
    pos = 0
    for a, a_end in _anchor_starts(text):
        if a < pos:
            continue  # inside a token already judged
        left_from = max(pos, a - _LEFT_MAX)
        back = _TOKEN_REV.match(text[left_from:a][::-1])
        tok_start = a - (back.end() if back else 0)
        tm = _TOKEN.match(text, a)
        tok_end = tm.end() if tm else a_end
        pos = max(tok_end, a_end)
        token = text[tok_start:tok_end]
        starts = _starts(token)
        for k, s in enumerate(starts):
            e = starts[k + 1] if k + 1 < len(starts) else len(token)
            cand = clean(token[s:e])
            if cand and len(cand) <= MAX_URL:
                out.append((tok_start + s, cand))
    return out


CHUNK = 4096  # scan in pieces ending at a line break; the prefilter skips pieces with no candidate


_LINE_SEP = frozenset("./+:닷점시스")  # a line break beside these may sit inside a stretched separator


def _chunks(text: str) -> list[tuple[int, int]]:
    """Spans covering `text`, cut after a line break no link, handle or disguise spans (never one
    beside a separator that a stretched disguise may break over lines)."""
    spans = []
    start = 0
    n = len(text)
    while start < n:
        cut = text.find("\n", min(start + CHUNK, n))
        while cut >= 0 and (
            text[max(0, cut - 12) : cut].rstrip(" \t\r\n")[-1:] in _LINE_SEP
            or text[cut : cut + 12].lstrip(" \t\r\n")[:1] in _LINE_SEP
        ):
            cut = text.find("\n", cut + 1)
        end = n if cut < 0 else cut + 1
        spans.append((start, end))
        start = end
    return spans


def scan(text: str, prefilter: bool = True) -> list[Hit]:
    """Every link occurrence in `text` (already entity-decoded), in order of appearance.

    `prefilter=False` when the caller already knows each piece holds a candidate (spans read around
    candidates): the pieces are scanned without asking `maybe_links` first."""
    hits: list[Hit] = []
    for start, end in _chunks(text):
        piece = text[start:end] if (start, end) != (0, len(text)) else text
        if not prefilter or maybe_links(piece):
            hits.extend(_scan_piece(piece, start))
    return hits


def _scan_piece(text: str, offset: int) -> list[Hit]:
    norm = Normalised(text)
    t = norm.text
    hits: list[Hit] = []
    for off, cand in _candidates(t):
        for found, redirect in resolve(cand):
            s, e = norm.span(off, off + len(cand))
            raw = text[s:e]
            hits.append(Hit(s + offset, e + offset, found, redirect, raw, raw != cand))
    if "@" in t and ("텔레" in t or "telegram" in t.lower()):
        for m in (m for rx in _HANDLES for m in rx.finditer(t)):
            name = m.group("name")
            if valid_username(name):
                s, e = norm.span(m.start(), m.end())
                found = ("telegram", "public_channel", name, f"https://t.me/{name}")
                hits.append(Hit(s + offset, e + offset, found, False, text[s:e], True))
    hits.sort(key=lambda h: h.start)
    return hits
