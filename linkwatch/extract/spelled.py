"""Hosts and paths written out: separators spaced on both sides or across a line break, a symbol or a
Hangul word between labels (`t🔹me`, `티닷미`, `open 점 kakao`), `/` and `+` spelled (`슬래시`, `플러스`).

One pattern matches a known host so written, then `/` (and a path word, then `/` again) and an
optional `+`, right before the code; it is rewritten to the plain `host/…+` the scanner reads. A
host alone is never a link: without the slash and a code after it, nothing is rewritten.
"""

from __future__ import annotations

import re

from .platforms import KNOWN_HOSTS
from .windows import padded

# Spaces, or line breaks (a `<br>` gives two) with spaces around them: still one post.
_WS = r"[ \t]{0,3}(?:\r?\n[ \t]{0,3}){0,2}"
_GAP = r"[ \t]{1,3}(?:\r?\n[ \t]{0,3}){0,2}|(?:\r?\n[ \t]{0,3}){1,2}"  # at least one space or break
# How posters spell labels out: Hangul readings and `tee`.
_SPELLINGS = {
    "t": ("tee", "티"), "me": ("미",), "telegram": ("텔레그램",), "discord": ("디스코드",), "gg": ("지지",),
    "com": ("컴",), "open": ("오픈",), "kakao": ("카카오",), "line": ("라인",),
}  # fmt: skip
# Symbols and emoji put between a host's labels (`t🔹me`, `t•me`, `t·me`), with a variation selector.
SYMBOL = (
    r"[\u00b7\u2022\u2027\u2219\u22c5\u30fb\u25a0-\u25ff\u2600-\u27bf\u2b00-\u2bff\U0001f300-\U0001faff]"
    r"[\ufe0e\ufe0f]?"
)
_BRACKETED = r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}"
_DOT = (
    rf"(?:(?:{_GAP})(?:\.|dot|닷|점|{_BRACKETED})(?:{_GAP})|\.|닷|점|{_BRACKETED}"
    rf"|[ \t]{{0,2}}{SYMBOL}[ \t]{{0,2}})"
)
_WORD = r"A-Za-z0-9\uac00-\ud7a3_\-"
_SLASH_WORD = r"(?:슬래시|슬러시)"
# `/` bare or with a gap on both sides; spelled, with or without spaces.
_SLASH = rf"(?:(?:{_GAP})/(?:{_GAP})|/|{_WS}{_SLASH_WORD}{_WS}|[ \t]{{1,3}}slash[ \t]{{1,3}})"
_PLUS = rf"(?:\+(?:{_GAP})?|플러스[ \t]{{0,3}}|plus[ \t]{{1,3}})"
_PATH_WORDS = ("joinchat", "addlist", "o", "me", "invite", "ti/g", "ti/g2", "channel", "n", "r/ti/g")


def _label_forms(label: str) -> tuple[str, ...]:
    return (label, *_SPELLINGS.get(label, ()))


def _label(label: str) -> str:
    return "(?:" + "|".join(re.escape(x) for x in _label_forms(label)) + ")"


_HOSTS = sorted(KNOWN_HOSTS, key=len, reverse=True)
_HOST_FORMS = "|".join(
    f"(?P<h{i}>" + _DOT.join(_label(x) for x in h.split(".")) + ")" for i, h in enumerate(_HOSTS)
)
_WORDS = "|".join(re.escape(w) for w in _PATH_WORDS)
# Every way a host may start (a first label's first letter, or its spelling's): tested first, one class
# test per position, where re would try the whole alternation of hosts at each.
_FIRST = "".join(sorted({w[0] for h in _HOSTS for w in _label_forms(h.split(".")[0])}))
SPELLED = re.compile(
    rf"(?i)(?=[{re.escape(_FIRST)}])(?<![{_WORD}.])(?P<host>{_HOST_FORMS})"
    rf"(?!{_DOT}[{_WORD}])(?!(?!{_SLASH_WORD})[{_WORD}])"  # the whole host: no label follows
    rf"(?P<slash>{_SLASH})(?:(?P<word>{_WORDS})(?P<slash2>{_SLASH}))?(?P<plus>{_PLUS})?(?=[A-Za-z0-9_])"
)
_SLASH_SPELLED = re.compile(r"(?i)슬래시|슬러시|slash|플러스|plus")
_SYMBOL_CHAR = re.compile(SYMBOL)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# a separator beside a line break
_BROKEN = re.compile(r"(?=[\n./+:])(?:\n[ \t]{0,3}[./+:]|[./+:][ \t]{0,3}\n)")


def spelled(m: re.Match[str]) -> str:
    """The plain form of a written-out host and path start: `티닷미 슬래시 +` -> `t.me/+`. A host written
    plainly keeps its spaced `/` or `+` (`t.me / abc`, `t.me/+ https://…` are prose or lists)."""
    which = next(k for k, v in m.groupdict().items() if v and k[0] == "h" and k[1:].isdigit())
    host = _HOSTS[int(which[1:])]
    if m.group("host").lower() == host and not any(
        _SLASH_SPELLED.search(m.group(g) or "") for g in ("slash", "slash2", "plus")
    ):
        return m.group()
    out = host + "/"
    if m.group("word"):
        out += m.group("word").lower() + "/"
    if m.group("plus"):
        out += "+"
    return out


_WINDOW = 160  # a written-out host and path start is shorter than this on each side of a cue
# Each written-out form holds one of these (a stretched separator: a spaced `.` or `/`, or one beside a
# line break; a symbol after a label is found by _SYMBOL_NEAR).
_CUES = ("닷", "점", " dot ", "tee", "슬래시", "슬러시", "플러스", " plus ", " slash ", " . ", " / ", "+ ")


def spelled_windows(text: str) -> list[tuple[int, int]]:
    """The spans of `text` worth matching SPELLED in: around its cues ([] when it has none)."""
    low = text.lower()
    cues = []
    for cue in _CUES:
        i = low.find(cue)
        while i >= 0:
            cues.append(i)
            if len(cues) > max(64, len(text) // 64):
                return [(0, len(text))]  # cues everywhere: the whole text
            i = low.find(cue, i + 1)
    if "\n" in text:
        cues.extend(m.start() for m in _BROKEN.finditer(text))
    if not text.isascii():  # a symbol right after a label (searched from the symbol: they are few)
        for m in _SYMBOL_CHAR.finditer(text):
            if text[max(0, m.start() - 3) : m.start()].rstrip(" \t")[-1:] in _ALNUM:
                cues.append(m.start())
    return padded(((c, c) for c in cues), _WINDOW, len(text))
