"""linkwatch.media: media recognised by its first bytes; text that merely starts alike is not.

Every sample is a made-up header of a few bytes (no picture, sound or video is in this file).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib

import brotli
import pytest

from linkwatch.media import SNIFF_BYTES, decoded_prefix, media_kind

PAD = b"\x00" * 24

SAMPLES = {
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + PAD,
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + PAD,
    "gif": b"GIF89a\x01\x00\x01\x00" + PAD,
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + PAD,
    "bmp": b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00" + PAD,
    "ico": b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00" + PAD,
    "avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00" + PAD,
    "heif": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00" + PAD,
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + PAD,
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00" + PAD,
    "mkv": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + PAD,
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x21" + PAD,
    "ogg": b"OggS\x00\x02\x00\x00" + PAD,
    "wav": b"RIFF\x24\x00\x00\x00WAVEfmt " + PAD,
    "flac": b"fLaC\x00\x00\x00\x22" + PAD,
    "woff": b"wOF2\x00\x01\x00\x00" + PAD,
    "ttf": b"\x00\x01\x00\x00\x00\x0e\x00\x80" + PAD,
    "otf": b"OTTO\x00\x0b\x00\x80" + PAD,
}


@pytest.mark.parametrize(("kind", "head"), SAMPLES.items(), ids=list(SAMPLES))
def test_each_listed_format_is_recognised(kind: str, head: bytes) -> None:
    assert media_kind(head) == kind


def test_mp3_without_a_tag_and_a_webm_are_media() -> None:
    assert media_kind(b"\xff\xfb\x90\x64" + PAD) == "mp3"  # MPEG-1 layer III frame header
    assert media_kind(b"\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x86\x81\x01webm") == "mkv"


TEXT = [
    b"<!doctype html><html><head><title>t</title>",
    b"\n\n  <html>",
    b'{"ok": true}',
    b"true",
    b"true, said the poster",
    b"BMW and Benz owners club, page 1",
    b"RIFF raff forum: who joined?",
    b"ID3 tags explained for beginners",
    b"OggS is a container (text about it)",
    b"FORM letters, page 2",
    b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00",  # UTF-16 LE with BOM
    b"\xfe\xff\x00<\x00h\x00t\x00m\x00l\x00>",  # UTF-16 BE with BOM
    "<html>한국어 게시판</html>".encode("utf-16-le"),  # no BOM
    "<html>한국어 게시판</html>".encode("utf-16-be"),
    "텔레그램 오픈채팅".encode("cp949"),
    b"\xef\xbb\xbf<html>",
    b"",
]


@pytest.mark.parametrize("body", TEXT)
def test_text_that_starts_alike_is_not_media(body: bytes) -> None:
    assert media_kind(body) is None


def test_a_short_prefix_is_judged_on_what_there_is() -> None:
    assert media_kind(b"\x89PNG\r\n\x1a\n") == "png"
    assert media_kind(b"\xff\xd8\xff") == "jpeg"
    assert media_kind(b"BM") is None  # not enough to tell it from text


def test_a_compressed_picture_is_recognised_from_its_first_chunk() -> None:
    png = SAMPLES["png"] + b"\x00" * 100_000
    for encoding, data in (
        ("gzip", gzip.compress(png)),
        ("deflate", zlib.compress(png)),
        ("deflate", zlib.compress(png)[2:-4]),  # raw deflate, as some servers send it
        ("br", brotli.compress(png)),
    ):
        first_chunk = data[:200]
        assert media_kind(decoded_prefix(first_chunk, encoding)) == "png", encoding
    assert media_kind(decoded_prefix(SAMPLES["gif"], "identity")) == "gif"


def test_decoding_is_bounded_and_never_raises() -> None:
    bomb = gzip.compress(b"\x00" * 5_000_000)
    assert len(decoded_prefix(bomb, "gzip")) <= SNIFF_BYTES
    for encoding in ("gzip", "deflate", "br", "zstd", "x-unknown"):
        out = decoded_prefix(b"\x1f\x8b\x08garbage-not-compressed", encoding)
        assert isinstance(out, bytes)
        assert len(out) <= SNIFF_BYTES


def test_the_sniffer_is_pure() -> None:
    code = (
        "import sys, linkwatch.media as m; m.media_kind(b'x');"
        "print(','.join(sorted(k for k in sys.modules if k.split('.')[0] in "
        "{'scrapy', 'twisted', 'playwright', 'psycopg'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
