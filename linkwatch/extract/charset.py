"""Bytes to text: BOM, declared charset (header or <meta>), UTF-8, CP949, then detection; never raises."""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

_HEADER_CHARSET = re.compile(rb"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
# searched in lower-cased bytes
_META_CHARSET = re.compile(rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([a-z0-9_.:-]{1,40})")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Korean pages often declare euc-kr but use CP949 (its superset, UHC); decoding as cp949 loses nothing.
_ALIASES = dict.fromkeys(("euc-kr", "euckr", "ks_c_5601-1987", "ksc5601", "x-windows-949", "uhc"), "cp949")
_DETECT_SAMPLE = 65536


@lru_cache(maxsize=256)  # codecs.lookup costs about a microsecond; pages name few charsets
def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(body: bytes, content_type: str | None = None) -> str | None:
    """The codec named by the Content-Type header, else by a <meta> in the first 4 KB; None if neither."""
    if content_type:
        m = _HEADER_CHARSET.search(content_type.encode("latin-1", "replace"))
        if m and (codec := _codec(m.group(1))):
            return codec
    # lower() first (ASCII only, ~1 us for 4 KB) so the pattern has a literal prefix: a case-insensitive
    # search tries every position
    m = _META_CHARSET.search(body[:4096].lower())
    return _codec(m.group(1)) if m else None


def utf8_body(body: bytes, content_type: str | None = None, encoding: str | None = None) -> bytes | None:
    """The bytes `decode` would read as UTF-8 (BOM stripped), or None when it would use another codec.

    ASCII counts as UTF-8: its replacement characters for high bytes are neither URL text nor special,
    so reading those bytes as UTF-8 instead only finds more. Undeclared non-ASCII bodies return None.
    """
    codec = _codec(encoding)
    if codec is None:
        for bom, name in _BOMS:
            if body.startswith(bom):
                return body[len(bom) :] if name == "utf-8" else None
        if utf16_without_bom(body):
            return None
        codec = declared_charset(body, content_type)
    if codec is None:
        return body if body.isascii() else None
    return body if codec in ("utf-8", "ascii") else None


def decode(body: bytes, content_type: str | None = None, encoding: str | None = None) -> str:
    """Page bytes to text: `encoding`, BOM, declared charset, UTF-8, CP949, detection; bad bytes -> U+FFFD."""
    if isinstance(body, str):
        return body
    codec = _codec(encoding)
    if codec is None:
        for bom, name in _BOMS:
            if body.startswith(bom):
                return body[len(bom) :].decode(name, "replace")
        codec = utf16_without_bom(body) or declared_charset(body, content_type)
    if codec is not None:
        try:
            return body.decode(codec, "replace")
        except (LookupError, ValueError):  # a codec that cannot decode at all (e.g. a rot13-style text codec)
            pass
    for guess in ("utf-8", "cp949"):
        try:
            return body.decode(guess)
        except UnicodeDecodeError:
            continue
    return body.decode(_detect(body), "replace")


def utf16_without_bom(body: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for a UTF-16 body without a byte-order mark, else None.

    Markup and URLs are ASCII, so in UTF-16 one byte of most pairs is zero, always on the same side:
    even bytes for big-endian, odd for little-endian. ASCII-compatible text has no zero bytes, and
    binary or UTF-32 data has them on both sides, so neither is taken for UTF-16.
    """
    sample = body[:1024]
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even = sample[0 : pairs * 2 : 2].count(0)
    odd = sample[1 : pairs * 2 : 2].count(0)
    if odd >= pairs * 0.2 and even <= pairs * 0.02:
        order = "utf-16-le"
    elif even >= pairs * 0.2 and odd <= pairs * 0.02:
        order = "utf-16-be"
    else:
        return None
    try:
        sample[: pairs * 2].decode(order)
    except UnicodeDecodeError:  # an unpaired surrogate cut at the sample's end is tolerated below
        try:
            sample[: pairs * 2 - 2].decode(order)
        except UnicodeDecodeError:
            return None
    return order


def _detect(body: bytes) -> str:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:_DETECT_SAMPLE]).best()
    except Exception:  # detection is a best effort on hostile bytes; UTF-8 with replacement is the fallback
        return "utf-8"
    codec = _codec(best.encoding if best else None)
    # binary garbage gets odd guesses (UTF-16, EBCDIC); only an ASCII-compatible codec keeps URLs intact
    probe = "t.me/+Abc-_:?#%"
    try:
        compatible = codec is not None and probe.encode(codec, "replace") == probe.encode("ascii")
    except (LookupError, ValueError, TypeError):  # a bytes-to-bytes codec name, not a text encoding
        compatible = False
    return codec if compatible and codec else "utf-8"
