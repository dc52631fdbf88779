"""Recognises image, video, audio and font bodies by their first bytes, whatever their label says."""

from __future__ import annotations

import zlib

# Bytes a decision needs: the longest signature read below ends at byte 16 (BMP's DIB header size).
SNIFF_BYTES = 32

# Sizes of a BMP's DIB header (BITMAPCOREHEADER … BITMAPV5HEADER): "BM" alone starts ordinary text.
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
# ISO base media file (MP4, MOV, M4A, 3GP, HEIF, AVIF): a box type at byte 4.
_ISO_FIRST_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp")
_RIFF_FORMATS = {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}
_FONT_VERSIONS = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"typ1")


def media_kind(prefix: bytes) -> str | None:
    """The media format the body starting with `prefix` is ("png", "mp4", "woff", …), or None.

    Only signatures that text never starts with are matched: where a format's magic is printable
    ("BM", "true", "RIFF", "ID3") the bytes after it must be binary as the format requires, so a
    page or a JSON answer that happens to begin with those letters is not refused. Give at least
    SNIFF_BYTES bytes when the body has that many.
    """
    p = bytes(prefix[:SNIFF_BYTES])
    if not p:
        return None
    return _images(p) or _video_audio(p) or _fonts(p)


def _images(p: bytes) -> str | None:
    if p.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if p.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if p.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if p.startswith(b"BM") and len(p) >= 18:
        reserved_zero = p[6:10] == b"\x00\x00\x00\x00"
        if reserved_zero and int.from_bytes(p[14:18], "little") in _BMP_DIB_SIZES:
            return "bmp"
    # ICO and CUR: reserved 0, type 1 or 2, 1-255 images, first entry's reserved byte 0
    if p[:2] == b"\x00\x00" and p[2:4] in (b"\x01\x00", b"\x02\x00") and len(p) >= 10:
        count = int.from_bytes(p[4:6], "little")
        if 0 < count < 256 and p[9] == 0:
            return "ico"
    if p.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if p.startswith(b"8BPS\x00\x01"):
        return "psd"
    if p.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "jxl"
    return None


def _video_audio(p: bytes) -> str | None:
    if len(p) >= 12 and p[4:8] in _ISO_FIRST_BOXES and p[0] < 0x20:
        # The box size is big-endian: a first byte below 0x20 is never printable text.
        if p[4:8] == b"ftyp":
            brand = p[8:12]
            if brand in (b"avif", b"avis"):
                return "avif"
            if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"):
                return "heif"
            if brand == b"qt  ":
                return "mov"
            return "mp4"
        return "mov"
    if p.startswith(b"\x1a\x45\xdf\xa3"):
        return "mkv"  # EBML: Matroska and WebM
    if p.startswith(b"OggS\x00"):
        return "ogg"
    if p.startswith(b"fLaC"):
        return "flac"
    if p.startswith(b"RIFF") and len(p) >= 12 and p[8:12] in _RIFF_FORMATS:
        return _RIFF_FORMATS[p[8:12]]
    if p.startswith(b"FORM") and len(p) >= 12 and p[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if p.startswith(b"ID3") and len(p) >= 10 and p[3] < 0x10 and p[5] & 0x0F == 0:
        return "mp3"  # ID3v2 tag: version byte and flags are binary
    if _mpeg_audio_frame(p):
        return "mp3"
    if len(p) >= 2 and p[0] == 0xFF and p[1] in (0xF1, 0xF9):
        return "aac"  # ADTS
    if p.startswith(b"FLV\x01"):
        return "flv"
    if p.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf"  # WMV, WMA
    if p.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "mpeg"
    if p.startswith(b"MThd\x00\x00\x00\x06"):
        return "midi"
    return None


def _mpeg_audio_frame(p: bytes) -> bool:
    """An MPEG-1/2 layer II or III frame header (MP3 without a tag).

    Layer I is left out on purpose: its header bytes FF FE are also the UTF-16 little-endian
    byte-order mark, which starts text pages.
    """
    if len(p) < 4 or p[0] != 0xFF or p[1] & 0xE0 != 0xE0:
        return False
    version = (p[1] >> 3) & 0x03
    layer = (p[1] >> 1) & 0x03
    bitrate = p[2] >> 4
    rate = (p[2] >> 2) & 0x03
    return version != 1 and layer in (1, 2) and bitrate not in (0, 15) and rate != 3


def _fonts(p: bytes) -> str | None:
    if p.startswith((b"wOFF", b"wOF2")) and len(p) >= 8 and p[4:8] in _FONT_VERSIONS:
        return "woff"
    if p.startswith(b"ttcf\x00"):
        return "ttc"
    # sfnt (TTF, OTF): version tag, then numTables as a big-endian 16-bit count (first byte 0)
    if p[:4] in _FONT_VERSIONS and len(p) >= 6 and p[4] == 0 and 0 < p[5] < 0x80:
        return "otf" if p[:4] == b"OTTO" else "ttf"
    if p.startswith(b"\x01\x00\x04") and len(p) >= 4 and p[3] in (1, 2, 3, 4):
        return "cff"
    return None


def decoded_prefix(data: bytes, content_encoding: str | None) -> bytes:
    """The first SNIFF_BYTES bytes of `data` once its Content-Encoding is undone (gzip, deflate, br).

    The server may compress a picture to hide its signature; this decodes only what the first
    chunk holds, with a bounded output (a tiny compressed chunk cannot expand into memory). When
    the encoding is unknown or the bytes do not decode, `data` itself is returned.
    """
    encoding = (content_encoding or "").strip().lower()
    if not encoding or encoding == "identity":
        return data[:SNIFF_BYTES]
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            # 47: zlib or gzip header, detected; a raw deflate stream is tried second
            for wbits in (47, -15):
                try:
                    return zlib.decompressobj(wbits).decompress(data, SNIFF_BYTES)
                except zlib.error:
                    continue
            return data[:SNIFF_BYTES]
        if encoding == "br":
            import brotli

            return brotli.Decompressor().process(data, output_buffer_limit=SNIFF_BYTES)[:SNIFF_BYTES]
    except Exception:  # hostile or truncated compressed bytes: judge the raw bytes instead
        return data[:SNIFF_BYTES]
    return data[:SNIFF_BYTES]
