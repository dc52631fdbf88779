"""Hostile input: huge single lines, 100,000 near-matches in a row, binary garbage, broken bytes.

Each completes in linear time with the correct result; the timeout marker is only a safety net.
"""

from __future__ import annotations

import random

import pytest

from linkwatch.extract import decode, extract

END = "https://t.me/+SynthEnd01"
N = 100_000


def urls(content: str | bytes) -> list[str]:
    return [x.url for x in extract(content)]


@pytest.mark.timeout(120)
def test_20_mb_single_line_of_text() -> None:
    assert urls("a" * 20_000_000 + " " + END) == [END]


@pytest.mark.timeout(120)
def test_20_mb_single_line_html_page() -> None:
    page = "<html><body><p>" + "가나다 라마바 사아자 " * 1_500_000 + f"{END}</p></body></html>"
    assert len(page.encode()) > 20_000_000
    assert urls(page) == [END]


@pytest.mark.timeout(120)
def test_20_mb_single_line_without_links_is_cheap() -> None:
    assert extract(("<b>게시판 본문 글쓰기</b> " * 700_000).encode()) == []


NEAR_MATCHES = [
    ("t.me/" * N + " " + END, [END]),
    ("t.me/ " * N + END, [END]),
    ("https://t.me/+" * N + " " + END, [END]),
    ("https://t.me/+ " * N + END, [END]),
    ("t.me/joinchat/ " * N + END, [END]),
    ("t[.]me/ " * N + "t[.]me/+SynthEnd01", [END]),
    ("discord dot gg/ " * N + "discord dot gg/SynthEnd01", ["https://discord.gg/SynthEnd01"]),
    ("텔레그램 @" * N + "텔레그램 @SynthEnd01", ["https://t.me/SynthEnd01"]),
    ("%2Ft.me%2F" * N + " " + END, [END]),
    ("https://x.example.com/go?u=" * N + END, [END]),
    ("(" * N + "t.me/+SynthEnd01" + ")" * N, [END]),
    ("t\u200b" * N + " " + END, [END]),
    ("。" * N + " " + END, [END]),
    ("." * N + "t.me/+SynthEnd01", [END]),
    ("open.kakao.com/o/ " * N + END, [END]),
    ("matrix.to/#/ " * N + END, [END]),
    # issue #18's families, repeated without end
    ("t . me / " * N + END, [END]),
    ("t\n.\nme\n/\n" * N + " " + END, [END]),
    ("티닷미 슬래시 " * N + END, [END]),
    ("점 " * N + END, [END]),
    ("t̶" * N + " " + END, [END]),
    ("\u0336" * N + " " + END, [END]),
    ("t.mе" * N + " " + END, [END]),
    ("е" * N + " " + END, [END]),
    ("t🔹" * N + " " + END, [END]),
    ("t%2E" * N + " " + END, [END]),
    ("&#46;" * N + " " + END, [END]),
    ("텔레 @" * N + "텔레 아이디 @SynthEnd01", ["https://t.me/SynthEnd01"]),
    ("텔레그램에서 @SynthEnd02 " * N + END, [END]),  # no verb of searching: not an instruction
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("text", "expected"), NEAR_MATCHES, ids=[t[:16] for t, _ in NEAR_MATCHES])
def test_100k_near_matches_in_a_row(text: str, expected: list[str]) -> None:
    assert urls(text) == expected


@pytest.mark.timeout(120)
def test_100k_anchors_with_empty_invites() -> None:
    html = "<a href='https://t.me/+'>x</a>" * N + f"<p>{END}</p>"
    assert urls(html) == [END]


@pytest.mark.timeout(60)
def test_deep_nesting_is_still_searched() -> None:
    html = "<div>" * N + "t.me/+SynthEnd01" + "</div>" * N
    assert urls(html) == [END]


@pytest.mark.timeout(120)
def test_binary_garbage_never_crashes() -> None:
    rng = random.Random(1)
    garbage = rng.randbytes(3_000_000)
    assert isinstance(decode(garbage), str)
    assert isinstance(extract(garbage), list)
    with_link = rng.randbytes(1_000_000) + f" {END} ".encode() + rng.randbytes(1000)
    assert urls(with_link) == [END]


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",
        b"\xfe\xff\xd8\x00",
        b"\xef\xbb\xbf\xed\xa0\x80t.me/+SynthEnd01",
        b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc",
        b"<meta charset='x-unknown'>\x80\x81 t.me/+SynthEnd01",
        b"<meta charset='utf-16'>t.me/+SynthEnd01",
        b"\x00" * 1000 + b"t.me/+SynthEnd01",
        b"",
    ],
)
def test_invalid_bytes_never_crash(body: bytes) -> None:
    links = extract(body)
    assert all(x.url == END for x in links)


def test_huge_attribute_and_huge_url() -> None:
    html = f'<a title="{"x" * 5_000_000}" href="{END}">x</a><p>https://t.me/+{"A" * 200_000}</p>'
    assert urls(html)[0] == END
