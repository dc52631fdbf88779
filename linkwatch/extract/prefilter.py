"""A cheap test that proves a page holds no candidate link, so most forum pages are never parsed.

It reads UTF-8 bytes (text is encoded; `extract` passes a UTF-8 page's bytes undecoded):
1. Any character stage 1 turns into URL text or deletes (fullwidth, math letters, zero-width,
   ideographic full stop…), or `텔레그램`, means "maybe": found as UTF-8 byte sequences with memchr
   on each lead byte, then a regex from that byte on.
2. Fold the bytes in one `translate`: ASCII lower-cased, spaces/tabs/`[](){},` -> `.`, non-ASCII
   and bytes no seed uses dropped. Every form of every host the scanner can rebuild then holds a
   seed: a platform word, `.gg/`, `%2e`, base64 `ahr0c`, `.dot.`, `.:.`, a scheme, or a second label
   (`.me`, `.kakao`…) whose first label (`t`, `open`…, or the end of it after a tag) is checked on
   the hit. Python's `re` is fast only from a literal first byte, so the seeds are grouped by a
   rare-ish byte they hold (a few passes, not one per seed).
3. HTML entities that decode to URL text.
First, one RE2 automaton (`gate_windows`) finds where any of these tests could say yes: most pages
are cleared by that one pass, and on the others the exact tests read only small windows around its
matches (they run Python's `re`, whose lookbehinds and per-hit checks RE2 lacks).
Tags at the separator (`t.<i>me</i>`, `t<b>.</b>me`) and at the end of a first label are seen; a
tag deep inside a label is not (`dis<b></b>cord.gg`: `.gg/` still is). The prefilter tests
(tests/unit/extract/test_prefilter.py) prove the superset on every disguise the rules list.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from unicodedata import is_normalized

import re2

from .chars import ALWAYS_CHANGED, ASTRAL, char_classes, visible_change
from .lookalike import MARKS, lookalikes
from .tables import stored
from .windows import padded

_URLISH = re.compile(r"[A-Za-z0-9./:@+#%-]")
# Planes 0 and 1 hold every character that normalisation maps to URL text (tests check the bound).
_PLANES = 0x20000


def special_chars(limit: int = _PLANES) -> list[str]:
    """Non-ASCII characters that normalisation deletes or turns into URL characters."""
    out = []
    for cp in range(0x80, limit):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or (is_normalized("NFKC", c) and c not in ALWAYS_CHANGED):
            continue
        new = visible_change(c)
        if new is not None and (new == "" or _URLISH.search(new)):
            out.append(c)
    return out


# After folding (ASCII lower-cased; spaces, tabs and `[](){},` -> `.`; see _DROP) every host
# form the scanner can rebuild holds one of these; `in` runs at memchr-like speed.
_FOLD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ[](){}, \t",
    b"abcdefghijklmnopqrstuvwxyz.........",
)
_FOLD_TABLE = bytes(_FOLD[b] if b < 0x80 else 0 for b in range(256))
# Deleting bytes can only join seeds, never break one (seeds are ASCII): non-ASCII bytes, digits
# other than 0 and 2, and punctuation no seed uses go, so the `in` tests scan fewer bytes.
_DROP = bytes(range(0x80, 0x100)) + b"13456789\"'=?!#;-*|~^`$\\\r\n"
_PLAIN_SEEDS = (
    b"telegram", b"discord", b"whatsapp", b"sgnl", b"public_key", b"%2e", b".gg/", b"ahr0c",
    b".dot.", b".:.", b"tg:", b"line:", b"matrix",
)  # fmt: skip
# seed -> what must sit around it (folded; `>` = a tag split the first label) for a candidate
_SECOND = rb"(?:me|gg|kakao|whatsapp|group|to|io|us|dog|com)"
_VERIFIED: tuple[tuple[bytes, re.Pattern[bytes]], ...] = (
    *(
        (
            seed,
            re.compile(
                b"(?:"
                + b"|".join(sorted({n[k:] for n in names for k in range(len(n))}, key=len, reverse=True))
                + rb"|>)\.{1,12}"
                + seed.lstrip(b".")
            ),
        )
        for seed, names in (
            (b".me", (b"t", b"line", b"telegram")),
            (b".kakao", (b"open", b"pf")),
            (b".group", (b"signal",)),
            (b".io", (b"element",)),
            (b".us", (b"band",)),
        )
    ),
)
# A tag right after or before the separator (`t.<i>me</i>`, `t<b>.</b>me`), rebuilt by the DOM walk.
# Searched whole: their two-byte literal prefixes keep `re` fast even when `>.` is everywhere, and
# possessive repeats (what may follow each is never a dot, `<` or a letter it gave back) never backtrack.
_TAG_LABEL = re.compile(rb">\.{0,4}" + _SECOND)  # cheap first test: a second label right after a tag
_TAG_SPLITS = (
    re.compile(rb"\.<(?:(?<=[a-z]\.<)|(?<=\.\.<))[^<>]{0,64}+>(?:<[^<>]{0,64}+>)*+\.{0,4}+" + _SECOND),
    re.compile(rb">\.\.{0,3}+(?:<[^<>]{0,64}+>)*+" + _SECOND),
)
# An entity that may decode to URL text (`&#46;`, `&period;`; not `&amp;`, `&lt;`, `&nbsp;`…), or one
# written as text, its source escaping the `&` once more (`t&amp;#x2E;me` shows `t&#x2E;me`): group
# `twice`. One pattern, so the page is read once; the two kinds never overlap.
_ENTITY = re.compile(
    rb"&(?:amp;(?P<twice>#[0-9]{1,7};?|#[xX][0-9A-Fa-f]{1,6};?|[A-Za-z]{2,10};)"
    rb"|(?!(?:amp|lt|gt|quot|nbsp|apos|#0*3[489]|#0*6[02]|#0*160|#x0*2[267]|#x0*3[ce]|#x0*a0);)"
    rb"[#A-Za-z0-9]{1,32};?)"
)
MAX_HITS = 2000  # a page with more seed hits than this is simply parsed


@cache
def _special_set() -> frozenset[str]:
    table = stored("special")
    return frozenset(map(chr, table)) if isinstance(table, list) else frozenset(special_chars())


# Compatibility characters common in Korean posts whose NFKC form cannot build a host or separator.
_HARMLESS_COMPAT = "…‥～！？"


def has_relevant_special(text: str) -> bool:
    """Does the text hold a compatibility character whose NFKC form is URL text (fullwidth `ｔ`…)?"""
    return not is_normalized("NFKC", text) and _relevant_compat(text)


def _relevant_compat(text: str) -> bool:
    for c in _HARMLESS_COMPAT:
        if c in text:
            text = text.replace(c, "")
    return not is_normalized("NFKC", text) and _has_special(text)


@cache
def _special_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    return char_classes(sorted(ord(c) for c in _special_set() - ALWAYS_CHANGED))


def _has_special(text: str) -> bool:
    bmp, astral = _special_res()
    if bmp.search(text) is not None:
        return True
    return ASTRAL.search(text) is not None and astral.search(text) is not None


def _entity_hit(data: bytes) -> bool:
    return bool(_entity_offsets(data, first=True))


@lru_cache(maxsize=1024)  # pages repeat their entities (an emoji written as `&#128077;` in EUC-KR)
def _urlish_entity(entity: bytes) -> bool:
    """Does the entity (without its `&`) decode to URL text or to a character stage 1 rewrites?"""
    text = "&" + entity.decode("ascii")
    decoded = html.unescape(text)
    return decoded != text and any(_URLISH.match(c) or visible_change(c) is not None for c in decoded)


def _entity_offsets(raw: bytes, first: bool = False) -> list[int] | None:
    """Offsets of entities (also written as text) that decode to URL text (None: very many)."""
    out = []
    for n, m in enumerate(_ENTITY.finditer(raw)):
        if n >= MAX_HITS:
            return [m.start()] if first else None
        if _urlish_entity(m.group("twice") or m.group()[1:]):
            out.append(m.start())
            if first:
                return out
    return out


def _trie(seqs: list[bytes]) -> bytes:
    """A regex matching exactly the byte strings `seqs` (all non-empty, none a prefix of another)."""
    if all(len(s) == 1 for s in seqs):
        return b"[" + b"".join(b"\\x%02x" % s[0] for s in sorted(seqs)) + b"]"
    groups: dict[int, list[bytes]] = {}
    for s in seqs:
        groups.setdefault(s[0], []).append(s[1:])
    alts = [b"\\x%02x" % b + _trie(rest) for b, rest in sorted(groups.items())]
    return alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"


@cache
def _special_utf8() -> tuple[tuple[bytes, re.Pattern[bytes]], ...]:
    """(anchor byte, regex) for every character stage 1 rewrites, one regex per UTF-8 lead byte.

    Everywhere: the characters NFKC turns into URL text and those always deleted or made dots
    (`maybe_links` used to ask "not NFKC and holds such a character" of the decoded text; the first
    part follows from the second, so the bytes test alone is the same test, run with memchr and a
    literal-prefixed regex instead of decoding). Right after an ASCII character only: marks and
    invisible characters (`t̶.̶m̶e̶`), by a lookbehind right after the lead byte, so that each regex
    keeps its literal start.
    """
    always = _special_set() | ALWAYS_CHANGED
    by_lead: dict[int, tuple[list[bytes], list[bytes]]] = {}
    for group, chars in ((0, always), (1, MARKS - always)):
        for c in chars:
            b = c.encode()
            by_lead.setdefault(b[0], ([], []))[group].append(b[1:])
    out = []
    for lead, (rest, marks) in sorted(by_lead.items()):
        lit = b"\\x%02x" % lead
        if not marks and len({r[:1] for r in rest}) == 1 and all(len(r) > 1 for r in rest):
            # one second byte (U+A7F2-A7F4 after 0xEA, which also leads common Hangul): anchor on it
            second = rest[0][:1]
            rx = b"\\x%02x(?<=\\x%02x\\x%02x)" % (second[0], lead, second[0]) + _trie([r[1:] for r in rest])
            out.append((second, re.compile(rx)))
            continue
        alts = [_trie(rest)] if rest else []
        if marks:
            alts.append(b"(?<=[\\x21-\\x7e]" + lit + b")" + _trie(marks))
        out.append((bytes([lead]), re.compile(lit + b"(?:" + b"|".join(alts) + b")")))
    return tuple(out)


@cache
def _lookalike_utf8() -> tuple[tuple[bytes, re.Pattern[bytes]], ...]:
    """(lead byte, regex) for letters of other scripts that read as ASCII (UTS #39) against an ASCII
    letter or digit, for the two-byte UTF-8 forms (Latin extensions, IPA, Greek, Cyrillic, Armenian…):
    their lead bytes are absent from Korean pages, so each costs one memchr there. The rarer three-
    and four-byte ones (Cherokee, Lisu, letter-like symbols) share lead bytes with Hangul, punctuation
    and emoji: the scanner maps them, but they do not make a page a candidate by themselves."""
    by_lead: dict[int, list[bytes]] = {}
    for c in set(lookalikes()) - _special_set() - ALWAYS_CHANGED:
        b = c.encode()
        if len(b) == 2:
            by_lead.setdefault(b[0], []).append(b[1:])
    out = []
    for lead, tails in sorted(by_lead.items()):
        lit = b"\\x%02x" % lead
        trie = _trie(tails)
        rx = lit + b"(?:(?<=[A-Za-z0-9]" + lit + b")" + trie + b"|" + trie + b"(?=[A-Za-z0-9]))"
        out.append((bytes([lead]), re.compile(rx)))
    return tuple(out)


_RARE = frozenset(range(0xC3, 0xE0)) | frozenset(range(0xF1, 0xF5))
_RARE_LEADS = bytes(1 if b in _RARE else 0 for b in range(256))
_TELE_KO = "텔레".encode()
# `텔레그램 @name`, `텔레 아이디: @name`, `텔레그램에서 @name 검색` (scan's _HANDLES): the word, then within a
# few characters (spaces, `아이디`/`ID`, a colon, a particle, tags the DOM drops) an `@`. A fullwidth
# `＠` is a special character, seen above.
_HANDLE_SEED = re.compile(_TELE_KO + rb"(?:[^@<\n]|<[^<>\n]{0,200}>){0,48}?@")
# A host spelled out in Hangul: by its `닷`, or by the spelled slash that follows it (`슬래시`, `슬러시`;
# `티점미/+x`, with 점 and a bare slash, is not seen). A second label right after Hangul text and
# before a slash (`티 점 me/`) is seen by the fold's passes, and so are ASCII labels with a Hangul or
# symbol separator (non-ASCII bytes become dots: `t 점 me` reads `t.....me`).
_HANGUL_WORDS = (("슬래".encode(), "슬러".encode()), ("닷".encode(),))


def _special_offsets(raw: bytes, first: bool = False, windows: Windows | None = None) -> list[int]:
    """Offsets of what the fold cannot see: characters stage 1 rewrites, handle instructions, hosts
    spelled in Hangul, inside `windows` (default: the whole page). `first`: stop at the first one."""
    out: list[int] = []
    if raw.isascii():
        return out
    windows = ((0, len(raw)),) if windows is None else windows
    for lo, hi in windows:
        i = raw.find(_TELE_KO, lo, hi)
        while i >= 0:  # each `텔레` with an `@` soon after it
            if raw.find(b"@", i, i + 600) >= 0 and _HANDLE_SEED.match(raw, i) is not None:
                out.append(i)
                if first:
                    return out
            i = raw.find(_TELE_KO, i + 1, hi)
        for lead, words in zip((b"\xec\x8a\xac", b"\xeb\x8b\xb7"), _HANGUL_WORDS, strict=True):  # 슬, 닷
            if raw.find(lead, lo, hi) < 0:
                continue
            for word in words:
                i = raw.find(word, lo, hi)
                while i >= 0:
                    out.append(i)
                    if first:
                        return out
                    i = raw.find(word, i + 1, hi)
        # Most lead bytes these regexes start from (Latin extensions to Armenian, combining marks, planes
        # 14-16) are absent from Korean pages: one translate and one memchr tell, for all of them at once.
        rare = b"\x01" in raw[lo:hi].translate(_RARE_LEADS)
        # the look-alikes only start from rare lead bytes: their data is not even loaded for most pages
        for lead, rx in (*_special_utf8(), *(_lookalike_utf8() if rare else ())):
            if not rare and lead[0] in _RARE:
                continue
            i = raw.find(lead, lo, hi)  # memchr; the regex then starts at the first lead byte, not at the top
            if i < 0:
                continue
            if first:
                if rx.search(raw, i, hi) is not None:
                    return [i]
                continue
            out.extend(m.start() for m in rx.finditer(raw, i, hi))
            if len(out) > MAX_CANDIDATES:
                return out
    return out


def _has_special_utf8(raw: bytes, windows: Windows | None = None) -> bool:
    return bool(_special_offsets(raw, first=True, windows=windows))


# The seeds above, searched in few passes over the folded page. A regex whose literal first byte
# is rare-ish runs at memchr-like speed in SRE; an alternation of different first bytes does not
# (SRE then tries every position), so each pass has one anchor byte, and lookbehinds check what
# precedes it. A group named `hit` is a seed; any other group names a second label that needs its
# first label checked (`_BEFORE`) or a tag right before it (`_TAG_LABEL`, then `_TAG_SPLITS`).
_ANCHORED = tuple(
    re.compile(p, re.VERBOSE)
    for p in (
        # first: `t.me` ends most searches early. A label right after Hangul text, then a slash
        # (`티닷me/`, `티 점 me /`, `오픈닷kakao닷com/`), is a host spelled in part in Hangul.
        rb"""m(?: atrix(?P<hit>) | e(?<=\.\.\.me)(?=\.{0,3}/)(?P<hit1>) | (?<=\.\.\.com)(?=\.{0,3}/)(?P<hit2>)
              | e(?<=[.>]me)(?P<me>) )""",
        rb"""g(?: n(?<=sgn)l(?P<hit>) | ram(?<=telegram)(?P<hit1>) | roup(?<=[.>]group)(?P<group>)
              | g(?<=\.gg)/(?P<hit2>) | g(?<=\.\.\.gg)(?=\.{0,3}/)(?P<hit3>) | g(?<=[.>]gg)(?P<gg>) )""",
        rb"k(?: ey(?<=public_key)(?P<hit>) | akao(?<=[.>]kakao)(?P<kakao>) )",
        # io, to, dog and com share one lookbehind (`xo`: the bytes around `o` tell which label)
        rb"o(?: t\.(?<=\.dot\.)(?P<hit>) | rd(?<=discord)(?P<hit1>) | (?<=[.>][itdc]o)(?P<xo>) )",
        rb"us(?<=[.>]us)(?P<us>)",
        rb"h(?: r0c(?<=ahr0c)(?P<hit>) | atsapp(?<=whatsapp)(?P<hit1>) )",
    )
)
_COLON = re.compile(rb":(?:(?<=tg:)|(?<=line:)|(?<=\.:)\.)")
_BEFORE = {seed.lstrip(b".").decode(): before for seed, before in _VERIFIED}


def _candidate_hit(data: bytes, label: str, start: int, end: int, tags: list[bool]) -> bool:
    before = _BEFORE.get(label)
    # a first label (or a tag end), then at most 12 dots, right before this second label
    if before is not None and before.search(data, max(0, start - 24), end) is not None:
        return True
    # a tag end and at most four dots right before it (_TAG_LABEL): the tag-split patterns decide
    if tags[0] or _TAG_LABEL.search(data, max(0, start - 6), end) is None:
        return False
    tags[0] = True  # they are searched over the whole page, once
    return any(rx.search(data) is not None for rx in _TAG_SPLITS)


_XO = {ord("i"): ("io", b""), ord("t"): ("to", b""), ord("d"): ("dog", b"g"), ord("c"): ("com", b"m")}


def _seed_hit(data: bytes, windows: Windows | None = None) -> bool:
    windows = ((0, len(data)),) if windows is None else windows
    # memchr first: `%` is rare
    if b"%" in data and any(data.find(b"%2e", lo, hi) >= 0 for lo, hi in windows):
        return True
    tags = [False]
    hits = 0
    for rx in _ANCHORED:
        for lo, hi in windows:
            for m in rx.finditer(data, lo, hi):
                label = m.lastgroup or "hit"
                if label.startswith("hit"):
                    return True
                end = m.end()
                if label == "xo":
                    label, after = _XO[data[end - 2]]
                    if not data.startswith(after, end):
                        continue
                    end += len(after)
                hits += 1
                if hits > MAX_HITS:  # very many candidates: one search each over everything, no Python loop
                    return any(before.search(data) is not None for before in _BEFORE.values()) or (
                        _TAG_LABEL.search(data) is not None and any(rx.search(data) for rx in _TAG_SPLITS)
                    )
                if _candidate_hit(data, label, end - len(label), end, tags):
                    return True
    # last: `:` is everywhere in markup
    return b":" in data and any(_COLON.search(data, lo, hi) is not None for lo, hi in windows)


def maybe_links(content: str | bytes) -> bool:
    """False only when `content` cannot hold an open-channel link in any form the rules list.

    Bytes are read as UTF-8 without decoding (pass other charsets decoded): invalid sequences decode
    to U+FFFD, which is neither URL text nor special, so the raw bytes hold every character that counts.
    """
    raw = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    return verdict(raw) != NO


NO, MAYBE, SPECIAL = 0, 1, 2


def verdict(raw: bytes, windows: Windows | None = None) -> int:
    """`maybe_links` on UTF-8 bytes, telling apart the pages that hold something only the byte-level
    tests see (a character stage 1 rewrites, a handle instruction, a spelled slash): SPECIAL. The
    other pages that may hold a link are MAYBE, and `candidates` need not look for those things.
    `windows`: what `gate_windows` gave for `raw` (computed when not given)."""
    windows = gate_windows(raw) if windows is None else windows
    if windows:  # the exact tests, only where the gate matched
        if _has_special_utf8(raw, windows):
            return SPECIAL  # fullwidth, math letters, zero-width, look-alikes, Hangul hosts…: scanner judges
        if _seed_hit(raw.translate(_POS_FOLD), windows):
            return MAYBE
    return MAYBE if b"&" in raw and _entity_hit(raw) else NO


# The fold keeps every byte where it was: ASCII lower-cased, non-ASCII bytes, line breaks and the
# separators above become dots (so `t🔹me`, `t 점 me`, `t\n.\nme` read `t...me`), and an offset found
# in it is a page offset.
_POS_FOLD = bytes(_FOLD_TABLE[b] if b < 0x80 and b not in b"\r\n" else 0x2E for b in range(256))
MAX_CANDIDATES = 512  # more than this: the caller reads the whole page instead
_LITERAL = -1  # a seed found by `%2e` or a scheme colon, not by one of _ANCHORED


def candidates(raw: bytes, special: bool = True, windows: Windows | None = None) -> list[int] | None:
    """Sorted offsets in `raw` (UTF-8) near which a link may be written, for a page `maybe_links` did not
    clear; [] when there is none after all, None when there are very many.

    Each offset is where a seed `maybe_links` looks for starts (a second label, a platform word, a
    special character, an entity…), so a span of text, a tag or a script read around each offset
    holds every link of the page. `special=False`: `verdict` said MAYBE, so the byte-level tests
    would find nothing. `windows`: what `gate_windows` gave for `raw` (computed when not given).
    """
    windows = gate_windows(raw) if windows is None else windows
    out = set(_special_offsets(raw, windows=windows)) if special and windows else set()
    entities = _entity_offsets(raw) if b"&" in raw else []
    if entities is None or len(out) > MAX_CANDIDATES:
        return None
    out.update(entities)
    found = _seed_offsets(raw.translate(_POS_FOLD), windows=windows) if windows else []
    if found is None:
        return None
    out.update(q for q, _ in found)
    if len(out) > MAX_CANDIDATES:
        return None
    return sorted(out)


def survey(raw: bytes, windows: Windows, marks: list[int] | None) -> tuple[int, list[int] | None]:
    """`verdict` and `candidates` of an HTML page at once, from what `gate` gave for it.

    The candidates are the gate's marks (a byte of each match, in the same text, tag or script as the
    seed the exact tests find there: their tests are the gate's, but for context checks) and the
    entities. The verdict is MAYBE where the page may hold a link, without telling SPECIAL apart (the
    page reader does not need it); where `verdict` says NO, the candidates read then find nothing."""
    if marks is None:  # very many gate matches: the exact tests, over the whole page
        special = _special_offsets(raw, windows=windows)
        found = candidates(raw, False, windows)
        if special and found is not None:
            found = sorted({*special, *found})
        if found == []:
            return NO, []
        return MAYBE, found if found is None or len(found) <= MAX_CANDIDATES else None
    entities = _entity_offsets(raw) if b"&" in raw else []
    if entities is None:
        return MAYBE, None
    found = sorted({*marks, *entities})
    if not found:
        return NO, []
    return MAYBE, found if len(found) <= MAX_CANDIDATES else None


def _seed_offsets(
    data: bytes, passes: set[int] | None = None, windows: Windows | None = None
) -> list[tuple[int, int]] | None:
    """(offset, pass) of every seed `_seed_hit` would say yes to in folded bytes (None: very many); the
    pass is the index in _ANCHORED that found it, or _LITERAL. `passes` limits the search to those,
    `windows` to those spans of the page."""
    out: list[tuple[int, int]] = []
    windows = ((0, len(data)),) if windows is None else windows
    for lo, hi in windows:
        if passes is None or _LITERAL in passes:
            i = data.find(b"%2e", lo, hi)
            while i >= 0:
                out.append((i, _LITERAL))
                i = data.find(b"%2e", i + 1, hi)
            out.extend((m.start(), _LITERAL) for m in _COLON.finditer(data, lo, hi))
        for k, rx in enumerate(_ANCHORED):
            if passes is not None and k not in passes:
                continue
            for m in rx.finditer(data, lo, hi):
                label = m.lastgroup or "hit"
                end = m.end()
                if not label.startswith("hit"):
                    if label == "xo":
                        label, after = _XO[data[end - 2]]
                        if not data.startswith(after, end):
                            continue
                        end += len(after)
                    start = end - len(label)
                    before = _BEFORE.get(label)
                    # as _candidate_hit, but any tag right before the label counts (a superset of the splits)
                    if (before is None or before.search(data, max(0, start - 24), end) is None) and (
                        _TAG_LABEL.search(data, max(0, start - 6), end) is None
                    ):
                        continue
                out.append((m.start(), k))
                if len(out) > MAX_CANDIDATES:
                    return None
    return out


# Any folded dot (see _POS_FOLD) as a class of raw bytes, so that the gate reads the page unfolded.
_RAW_DOT = rb"[.\[\](){}, \t\r\n\x80-\xff]"


@cache
def _gate() -> re2._Regexp:
    """One RE2 automaton over the raw page that matches wherever `verdict`'s exact tests (but the
    entities and handle instructions) could say yes: a superset of them, without their context checks
    and lookbehinds.

    Python's `re` is fast only from a literal first byte, hence the exact tests' many passes; RE2 runs
    one DFA over the page whatever the alternatives, at several hundred MB/s."""
    always = _special_set() | ALWAYS_CHANGED
    marks = sorted(c.encode() for c in MARKS - always)
    looks = sorted(c.encode() for c in set(lookalikes()) - always if len(c.encode()) == 2)
    special = [
        _trie(sorted(c.encode() for c in always)),
        rb"[\x21-\x7e]" + _trie(marks),
        rb"[A-Za-z0-9]" + _trie(looks),
        _trie(looks) + rb"[A-Za-z0-9]",
        *(re.escape(w) for words in _HANGUL_WORDS for w in words),
        rb"<(?i:base)[\s/>]",  # not a candidate: the page reader must know of a `<base>` (`has_base`)
        _TELE_KO,  # nor this: where a handle instruction may start (`gate` checks; bytes.find is slow here)
        # nor these: where the page reader's sections (scripts, styles, comments…) may start
        rb"<(?:(?i:script|style)[\s/>]|!--|(?i:template|textarea|xmp|plaintext|noembed|noframes)|\?|!\[(?i:cdata)\[)",
    ]
    befores = [rx.pattern for _seed, rx in _VERIFIED]
    seeds = [
        rb"%2e|tg:|line:|\.:\.|matrix|sgnl|telegram|public_key|\.dot\.|discord|ahr0c|whatsapp|\.gg/",
        rb"\.\.\.(?:me|com|gg)\.{0,3}/",
        rb">\.{0,4}" + _SECOND,
        *befores,
    ]
    folded = b"(?i:" + b"|".join(seeds).replace(rb"\.", _RAW_DOT) + b")"
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.max_mem = 64 << 20
    return re2.compile(b"|".join([*special, folded]), options)


def _spans(rx: re2._Regexp, raw: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each match of `rx` in `raw`, as `finditer` finds them. A near-miss page has a
    dozen matches and the wrapper's match objects cost as much as the automaton's pass: RE2's own
    match call is used when this google-re2 has it (pinned; the wrapper's otherwise)."""
    match = getattr(getattr(rx, "_regexp", None), "Match", None)
    if match is None or _UNANCHORED is None:
        yield from (m.span() for m in rx.finditer(raw))
        return
    pos, size = 0, len(raw)
    while True:
        start, end = match(_UNANCHORED, raw, pos, size)[0]
        if start < 0:
            return
        yield start, end
        pos = end if end > pos else pos + 1


_UNANCHORED = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
_UNANCHORED = getattr(_UNANCHORED, "UNANCHORED", None)
Windows = tuple[tuple[int, int], ...]
# Around each gate match, what the exact tests read: their lookbehinds and lookaheads (at most about 24
# bytes), and a candidate that an earlier, overlapping gate match hid (at most 25 bytes after its end).
_PAD = 64
MAX_GATE = 256  # more gate matches than this: the exact tests read the whole page


_BASE = re.compile(rb"<(?i:base)[\s/>]")


def has_base(raw: bytes, windows: Windows) -> bool:
    """Does the page hold a `<base>` element (which changes what relative links point to)? `windows`:
    `gate_windows(raw)`, which holds every one."""
    return any(_BASE.search(raw, lo, hi) is not None for lo, hi in windows)


def gate_windows(raw: bytes) -> Windows:
    """The spans of `raw` (sorted, disjoint) outside which `verdict`'s exact tests (but the entities)
    find nothing: each gate match and handle instruction, padded; () when there is none."""
    return gate(raw).windows


@dataclass(frozen=True, slots=True)
class Gated:
    """What the gate found in a page."""

    windows: Windows  # see gate_windows
    marks: list[int] | None  # a byte of each match, and each handle instruction's start; None: very many
    sections: list[int] | None  # where a script, style, comment… may start (`markup.Markup`); None: very many


MAX_SECTIONS = 2048  # more section starts than this: the page reader looks for them itself
_SECTION_NEXT = frozenset(b"sStTxXpPnN!?")  # the byte after the `<` of a section start (never of a seed)


def gate(raw: bytes) -> Gated:
    """`gate_windows(raw)`, a mark in each gate match (its last byte) and each handle instruction (its
    start), and where sections may start; all sorted. One pass of the gate's automaton over the page."""
    found: list[tuple[int, int]] = []
    tele: list[int] = []
    sections: list[int] | None = []
    for start, end in _spans(_gate(), raw):
        if raw[start] == 0x3C and raw[start + 1] in _SECTION_NEXT:  # `<`: a section may start here
            if sections is not None:
                sections.append(start)
                if len(sections) > MAX_SECTIONS:
                    sections = None
            continue
        if raw.startswith(_TELE_KO, start) and end - start == len(_TELE_KO):
            tele.append(start)
            continue
        found.append((start, end))
        if len(found) > MAX_GATE:
            return Gated(((0, len(raw)),), None, None)
        if end - start > len(_TELE_KO):  # a match over Hangul (`t 텔레 me`) hides a `텔레` from the automaton
            i = raw.find(_TELE_KO, start, end)
            while i >= 0:
                tele.append(i)
                i = raw.find(_TELE_KO, i + 1, end)
    marks = [end - 1 for _start, end in found]
    for i in tele:  # a handle instruction may run over many tags: an automaton would be huge
        if raw.find(b"@", i, i + 600) >= 0 and (h := _HANDLE_SEED.match(raw, i)) is not None:
            found.append((i, h.end()))
            marks.append(i)
    return Gated(tuple(padded(found, _PAD, len(raw))), sorted(marks), sections)
