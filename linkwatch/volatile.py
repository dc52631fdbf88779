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

# Session parameters in URLs (raw or &amp;-escaped separators): the value goes, the name stays.
_SESSION_NAMES = "|".join(sorted(re.escape(n) for n in SESSION_PARAMS))
_URL_SESSION = re.compile(
    rb"((?:[?&;]|&amp;|&#0*38;)(?:" + _SESSION_NAMES.encode() + rb"))=[^&\"'\s<>#;]{1,200}", re.I
)
# vBulletin's `s=` is a session only when it is its 32 hex digits.
_VB_SESSION = re.compile(rb"((?:[?&]|&amp;)s)=[0-9a-f]{32}(?![0-9a-f])", re.I)
_PATH_SESSION = re.compile(rb"(?<!&amp);(?:jsessionid|sid|phpsessid|sessionid)=[^/?#&;\"'\s<>]{1,200}", re.I)

# Hidden inputs and meta tags that carry a per-request token: their value goes.
TOKEN_NAMES = frozenset({
    "form_token", "creation_time", "csrf_token", "csrf", "_csrf", "csrfmiddlewaretoken", "_token",
    "authenticity_token", "securitytoken", "my_post_key", "_xftoken", "csrfkey", "csrf-token",
    "csrf-param", "__requestverificationtoken", "sid", "s", "sc", "token", "nonce", "_wpnonce",
    "session_id", "sessid", "x-csrf-token", "_csrf_token",
}) | SESSION_PARAMS  # fmt: skip
_TOKEN_TAG = re.compile(rb"<(?:input|meta)\b[^<>]{0,3000}>", re.I)
_NAME_ATTR = re.compile(rb"""\b(?:name|id)\s*=\s*["']?([^"'\s>]{1,100})""", re.I)
_VALUE_ATTR = re.compile(rb"""\b(value|content)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
# Attributes that are per-request by construction: CSP nonces, XenForo's data-csrf.
_TOKEN_ATTR = re.compile(rb"""\s(?:nonce|data-csrf|data-csrf-token|data-xf-csrf)\s*=\s*(?:"[^"]*"|'[^']*')""",
                         re.I)
# Tokens assigned in scripts (vBulletin, MyBB, XenForo, Invision, SMF, Laravel and friends).
_SCRIPT_TOKEN = re.compile(
    rb"""(\b(?:SECURITYTOKEN|securitytoken|my_post_key|csrf|csrfKey|csrfToken|csrf_token|_token|form_token"""
    rb"""|smf_session_id|smf_session_var|sessionId|session_id|nonce)["']?\s*[:=]\s*)(["'])[^"'\\<\n]{1,200}\2"""
)

# Counters and clocks of common engines, English and Korean: the phrase and what follows it up to the
# next tag (or a short, bounded stretch of inline markup) go. Matched as bytes, so an optional Hangul
# syllable is a group, `(?:명)?`: `명?` would only make its last byte optional.
_TAIL = r"[^<\n]{0,160}"
_PHRASES_EN = (
    r"it is currently" + _TAIL,  # phpBB
    r"the time now is(?:\s|<[^<>]{0,100}>){0,6}[^<\n]{0,40}(?:</[a-z]+>)?",  # vBulletin
    r"page (?:generated|created|rendered) in" + _TAIL,  # phpBB, SMF
    r"generated in [\d.,]+\s*(?:ms|s|sec|seconds?)\b" + _TAIL,  # MyBB
    r"in total there (?:are|is) [\d,]+ users? online" + _TAIL,  # phpBB
    r"currently active users" + _TAIL,  # vBulletin
    r"\b[\d,]+ users? active in the past [\d,]+ minutes?" + _TAIL,  # MyBB
    r"\btotal: [\d,]+ \(members: [\d,]+, guests: [\d,]+(?:, robots: [\d,]+)?\)",  # XenForo
    r"\b[\d,]+ guests?, [\d,]+ (?:users?|members?)(?: \([^<)]{0,80}\))?",  # SMF
    r"\b[\d,]+ (?:users?|members?|guests?|visitors?|anonymous users?) (?:are |is )?(?:currently )?online\b",
    r"\b(?:users?|members?|visitors?) online:?\s*(?:<[^<>]{0,100}>\s*){0,2}[\d,]+",  # Invision, generic
    r"\bonline now:?\s*(?:<[^<>]{0,100}>\s*){0,2}[\d,]+",
    r"\b(?:sql )?queries:? [\d,]+\b" + r"(?:\s*/\s*[^<\n]{0,120})?",  # debug footers
    r"\bmemory usage:? [\d.,]+\s*[kmg]?b\b",
    r"\bserver time:?" + _TAIL,
)
_PHRASES_KO = (
    r"현재 ?시각" + _TAIL, r"현재 ?시간" + _TAIL, r"페이지 ?생성 ?시간" + _TAIL,
    r"현재 ?접속자" + _TAIL, r"접속자 ?(?:수)?\s*:?\s*(?:<[^<>]{0,100}>\s*){0,2}[\d,]+ ?(?:명)?",
    r"[\d,]+ ?명(?:이)? ?접속 ?중",
)
_PHRASES = [re.compile("|".join(_PHRASES_EN).encode(), re.I)]
for _encoding in ("utf-8", "cp949"):  # Korean boards are often EUC-KR (cp949 is its superset)
    _PHRASES.append(re.compile("|".join(_PHRASES_KO).encode(_encoding), re.I))
# Comments of caches and debug footers that carry a time ("<!-- generated 0.02s … -->").
_TIMING_COMMENT = re.compile(
    rb"<!--[^>]{0,200}?(?:generated|queries|cached|served|render(?:ed)?|took|time)[^>]{0,200}?-->", re.I
)


def _token_tag(m: re.Match[bytes]) -> bytes:
    tag = m.group(0)
    name = _NAME_ATTR.search(tag)
    if name is None or name.group(1).lower().decode("ascii", "replace") not in TOKEN_NAMES:
        return tag
    return _VALUE_ATTR.sub(rb"\1=", tag)


def stable_body(body: bytes) -> bytes:
    """The body with its volatile parts removed (bodies over MAX_BYTES are returned as they are)."""
    if len(body) > MAX_BYTES:
        return body
    out = _URL_SESSION.sub(rb"\1=", body)
    out = _VB_SESSION.sub(rb"\1=", out)
    out = _PATH_SESSION.sub(b"", out)
    out = _TOKEN_TAG.sub(_token_tag, out)
    out = _TOKEN_ATTR.sub(b"", out)
    out = _SCRIPT_TOKEN.sub(rb"\1\2\2", out)
    out = _TIMING_COMMENT.sub(b"", out)
    for rx in _PHRASES:
        out = rx.sub(b"", out)
    return out


def version_digest(body: bytes | str | None) -> str:
    """The hex sha256 that identifies a page version: that of the body without its volatile parts."""
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return hashlib.sha256(stable_body(body)).hexdigest()
