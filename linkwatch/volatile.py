"""A page's version identity: the sha256 of its body with the parts that change on every request removed.

Forum engines put things in each response that say nothing about the page's content: session ids in
links (`sid=`, `s=`, `;jsessionid=`), CSRF tokens (hidden inputs such as `form_token`,
`creation_time`, `csrf_token`; `<meta name="csrf-token">`; script variables such as vBulletin's
SECURITYTOKEN or MyBB's my_post_key; CSP nonces), "who is online" counters and the render's own
time ("It is currently …", "Page generated in … seconds"). Two fetches that differ only in these
are one page version. Only what is volatile by construction is removed, and only from the copy that
is hashed: the stored evidence stays byte-exact. Post text is never touched, except a phrase that
reads exactly like an engine's counter or clock.

Pure (stdlib only), bytes in, hex digest out; any input, however broken, gives a digest.
"""

from __future__ import annotations

import hashlib
import re

from linkwatch.scope import SESSION_PARAMS

MAX_BYTES = 8 << 20  # beyond this a page is hashed as fetched: no forum page is that large
MAX_CUTS = 20_000  # volatile spans cut from one page at most (bounds the work on hostile input)

# Every rule below runs on a lower-cased copy of the body (same length, so a span found there is the
# same span of the body) without re.I, and only when its trigger words are in the page: most rules
# then start with a literal and the regex engine skips ahead fast. A rule yields spans to cut.
# Each rule: (triggers, compiled pattern, group whose span is cut, or 0 for the whole match).

# Session parameters in URLs (raw or &amp;-escaped separators): the value goes, the name stays.
_SESSION_NAMES = "|".join(sorted(re.escape(n) for n in SESSION_PARAMS))
_URL_SESSION = re.compile(
    rb"(?:[?&;]|&amp;|&#0*38;)(?:" + _SESSION_NAMES.encode() + rb")=([^&\"'\s<>#;]{1,200})"
)
# vBulletin's `s=` is a session only when it is its 32 hex digits.
_VB_SESSION = re.compile(rb"[?&;]s=([0-9a-f]{32})(?![0-9a-f])")  # `;` ends an `&amp;`
_PATH_SESSION = re.compile(rb"(?<!&amp);(?:jsessionid|sid|phpsessid|sessionid)=[^/?#&;\"'\s<>]{1,200}")

# Hidden inputs and meta tags that carry a per-request token: their value goes.
TOKEN_NAMES = frozenset({
    "form_token", "creation_time", "csrf_token", "csrf", "_csrf", "csrfmiddlewaretoken", "_token",
    "authenticity_token", "securitytoken", "my_post_key", "_xftoken", "csrfkey", "csrf-token",
    "csrf-param", "__requestverificationtoken", "sid", "s", "sc", "token", "nonce", "_wpnonce",
    "session_id", "sessid", "x-csrf-token", "_csrf_token",
}) | SESSION_PARAMS  # fmt: skip
_TOKEN_TAG = re.compile(rb"<(?:input|meta)\s[^<>]{0,3000}>")
_NAME_ATTR = re.compile(rb"""(?<![\w-])(?:name|id)\s*=\s*["']?([^"'\s>]{1,100})""")
_VALUE_ATTR = re.compile(rb"""(?<![\w-])(?:value|content)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""")
# Attributes that are per-request by construction: CSP nonces, XenForo's data-csrf.
_TOKEN_ATTR = re.compile(
    rb"""(?<=\s)(?:nonce|data-csrf|data-csrf-token|data-xf-csrf)\s*=\s*(?:"[^"]*"|'[^']*')"""
)
# Tokens assigned in scripts (vBulletin, MyBB, XenForo, Invision, SMF, Laravel and friends).
_SCRIPT_TOKEN = re.compile(
    rb"""(?<![\w$])(?:securitytoken|my_post_key|csrf|csrfkey|csrftoken|csrf_token|_token|form_token"""
    rb"""|smf_session_id|smf_session_var|sessionid|session_id|nonce)["']?\s*[:=]\s*(["'])([^"'\\<\n]{1,200})\1"""
)

# Counters and clocks of common engines: the phrase and what follows it up to the next tag (or a
# short, bounded stretch of inline markup) go, with the number written just before it ("17 users
# online"). Every alternative starts with a word, so the engine can skip to it.
_TAIL = r"[^<\n]{0,160}"
_PHRASES_EN = (
    r"it is currently" + _TAIL,  # phpBB
    r"the time now is(?:\s|<[^<>]{0,100}>){0,6}[^<\n]{0,40}(?:</[a-z]+>)?",  # vBulletin
    r"page (?:generated|created|rendered) in" + _TAIL,  # phpBB, SMF
    r"generated in [\d.,]+\s*(?:ms|s|sec|seconds?)\b" + _TAIL,  # MyBB
    r"in total there (?:are|is) [\d,]+ users? online" + _TAIL,  # phpBB
    r"currently active users" + _TAIL,  # vBulletin
    r"users? active in the past [\d,]+ minutes?" + _TAIL,  # MyBB
    r"total: [\d,]+ \(members: [\d,]+, guests: [\d,]+(?:, robots: [\d,]+)?\)",  # XenForo
    r"guests?, [\d,]+ (?:users?|members?)(?: \([^<)]{0,80}\))?",  # SMF
    r"(?:users?|members?|guests?|visitors?) (?:are |is )?(?:currently )?online\b"  # Invision, generic
    r"(?::?\s*(?:<[^<>]{0,100}>\s*){0,2}[\d,]+)?",
    r"online now:?\s*(?:<[^<>]{0,100}>\s*){0,2}[\d,]+",
    r"queries:? [\d,]+\b(?:\s*/\s*[^<\n]{0,120})?",  # debug footers
    r"memory usage:? [\d.,]+\s*[kmg]?b\b",
    r"server time:?" + _TAIL,
)
_TRIGGERS_EN = (b"currently", b"time now", b"generated", b"created in", b"rendered in", b"online",
                b"active", b"total:", b"guest", b"queries", b"memory usage", b"server time")
_PHRASES_KO = (
    r"현재 ?시각" + _TAIL, r"현재 ?시간" + _TAIL, r"페이지 ?생성 ?시간" + _TAIL,
    r"현재 ?접속자" + _TAIL, r"접속자 ?(?:수)?\s*:?\s*(?:<[^<>]{0,100}>\s*){0,2}[\d,]+ ?(?:명)?",
    r"명(?:이)? ?접속 ?중",
)
# Comments of caches and debug footers that carry a time ("<!-- generated 0.02s … -->").
_TIMING_COMMENT = re.compile(
    rb"<!--[^>]{0,200}?(?:generated|queries|cached|served|render(?:ed)?|took|time)[^>]{0,200}?-->"
)
_SESSION_TRIGGERS = (b"sid=", b"sess", b"cfid=", b"cftoken=", b"zenid=")
_RULES: list[tuple[tuple[bytes, ...], re.Pattern[bytes], int]] = [
    (_SESSION_TRIGGERS, _URL_SESSION, 1),
    ((b"s=",), _VB_SESSION, 1),  # (a weak trigger: the pattern's first byte is a rare one)
    ((b";jsessionid=", b";sid=", b";phpsessid=", b";sessionid="), _PATH_SESSION, 0),
    ((b"nonce", b"data-csrf", b"data-xf-csrf"), _TOKEN_ATTR, 0),
    ((b"token", b"csrf", b"my_post_key", b"session", b"nonce"), _SCRIPT_TOKEN, 2),
    ((b"<!--",), _TIMING_COMMENT, 0),
    (_TRIGGERS_EN, re.compile("|".join(_PHRASES_EN).encode()), 0),
]
# Korean phrases are matched in the body itself (lower-casing could change an EUC-KR trail byte),
# as UTF-8 and as EUC-KR (cp949 is its superset); they have no case anyway. Matched as bytes, an
# optional Hangul syllable is a group, `(?:명)?`: `명?` would only make its last byte optional.
_KOREAN: list[tuple[tuple[bytes, ...], re.Pattern[bytes]]] = [
    (tuple(w.encode(enc) for w in ("현재", "접속", "페이지")),
     re.compile("|".join(_PHRASES_KO).encode(enc)))
    for enc in ("utf-8", "cp949")
]
_NUMBER_BEFORE = frozenset(b"0123456789, ")


def _token_values(low: bytes, cuts: list[tuple[int, int]]) -> None:
    """The value spans of <input>/<meta> tags whose name says they carry a token."""
    for m in _TOKEN_TAG.finditer(low):
        tag = m.group(0)
        name = _NAME_ATTR.search(tag)
        if name is None or name.group(1).decode("ascii", "replace") not in TOKEN_NAMES:
            continue
        for v in _VALUE_ATTR.finditer(tag):
            cuts.append((m.start() + v.start(), m.start() + v.end()))
        if len(cuts) > MAX_CUTS:
            return


def _spans(body: bytes, low: bytes) -> list[tuple[int, int]]:
    cuts: list[tuple[int, int]] = []
    for triggers, rx, group in _RULES:
        if not any(t in low for t in triggers):
            continue
        for m in rx.finditer(low):
            cuts.append(m.span(group))
            if len(cuts) > MAX_CUTS:
                return cuts
    if b"<input" in low or b"<meta" in low:
        _token_values(low, cuts)
    for triggers, rx in _KOREAN:
        if any(t in body for t in triggers):
            cuts.extend(m.span() for m in rx.finditer(body))
    return cuts


def stable_body(body: bytes) -> bytes:
    """The body with its volatile parts removed (bodies over MAX_BYTES are returned as they are)."""
    if len(body) > MAX_BYTES:
        return body
    low = body.lower()
    cuts = _spans(body, low)
    if not cuts:
        return body
    out = []
    at = 0
    for start, end in sorted(cuts):
        while start > at and start > 0 and low[start - 1] in _NUMBER_BEFORE and end - start < 4096:
            start -= 1  # "17 users online": the number goes with its words (bounded by `at`)
        if end <= at:
            continue
        out.append(body[at:max(at, start)])
        at = end
    out.append(body[at:])
    return b"".join(out)


def version_digest(body: bytes | str | None) -> str:
    """The hex sha256 that identifies a page version: that of the body without its volatile parts."""
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return hashlib.sha256(stable_body(body)).hexdigest()
