"""HTML pages: attributes, redirectors, markup splits, entities, meta refresh, charsets, `where`, context."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

import pytest

from linkwatch.extract import WHERE, Link, decode, extract, shortener_urls

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "extract"


def urls(links: list[Link]) -> list[str]:
    return [x.url for x in links]


def one(html: str, **kwargs: object) -> Link:
    links = extract(html, **kwargs)  # type: ignore[arg-type]
    assert len(links) == 1, links
    return links[0]


def test_fixture_page_in_order_with_where() -> None:
    links = extract((FIXTURES / "forum_post.html").read_bytes(), "https://forum.example.kr/board/free/")
    got = [(x.platform, x.kind, x.code, x.where, x.obfuscated) for x in links]
    assert got == [
        ("telegram", "invite", "SynthFixture01", "href", False),
        ("telegram", "invite", "SynthFixture02", "text", False),
        ("discord", "invite", "SynthFix03", "text", True),
        ("kakao", "invite", "gSynthF4", "redirect", False),
        ("line", "invite", "SynthFix05", "attr", False),
        ("whatsapp", "invite", "SynthFix06abcdefghijklm", "attr", False),
        ("telegram", "public_channel", "SynthFixture07", "text", True),
        ("telegram", "invite", "SynthFixture08", "text", False),
    ]
    assert all(x.where in WHERE for x in links)
    assert links[0].context.startswith("공지: 새 채널로 이동했습니다.")
    assert links[0].raw == "https://t.me/+SynthFixture01"


@pytest.mark.parametrize("attr", ["href", "data-href", "data-url", "title"])
def test_attributes(attr: str) -> None:
    link = one(f'<p>본문</p><a {attr}="https://t.me/+SynthAttr01">x</a>')
    assert link.url == "https://t.me/+SynthAttr01"
    assert link.where == ("href" if attr == "href" else "attr")


def test_onclick_string() -> None:
    link = one("""<button onclick="location.href='https://discord.gg/SynthOn1'">go</button>""")
    assert (link.url, link.where) == ("https://discord.gg/SynthOn1", "attr")


def test_relative_href_with_base_url() -> None:
    link = one('<a href="/joinchat/SynthRel01">x</a>', base_url="https://t.me/s/somechannel")
    assert (link.url, link.where) == ("https://t.me/+SynthRel01", "href")
    assert extract('<a href="/joinchat/SynthRel01">x</a>', base_url="https://forum.example.kr/") == []


def test_base_element() -> None:
    link = one('<head><base href="https://t.me/"></head><body><a href="+SynthBase1">x</a></body>')
    assert link.url == "https://t.me/+SynthBase1"


@pytest.mark.parametrize(
    "href",
    [
        "/go.php?url=" + quote("https://t.me/+SynthRed01", safe=""),
        "/go.php?to=" + quote(quote("https://t.me/+SynthRed01", safe=""), safe=""),  # encoded twice
        "/r?q=" + quote("https://x.example.com/out?u=" + quote("https://t.me/+SynthRed01", safe=""), safe=""),
        "/out?u=" + base64.b64encode(b"https://t.me/+SynthRed01").decode(),
        "/out?u=" + base64.urlsafe_b64encode(b"https://t.me/+SynthRed01").decode().rstrip("="),
        "/link#go?url=" + quote("https://t.me/+SynthRed01", safe=""),
    ],
)
def test_redirectors(href: str) -> None:
    link = one(f'<a href="{href}">바로가기</a>', base_url="https://forum.example.kr/")
    assert (link.url, link.where) == ("https://t.me/+SynthRed01", "redirect")


def test_redirector_in_plain_text() -> None:
    text = "https://forum.example.kr/go.php?url=" + quote("https://discord.gg/SynthRed2", safe="")
    link = one(text)
    assert (link.url, link.where) == ("https://discord.gg/SynthRed2", "redirect")


@pytest.mark.parametrize(
    "html",
    [
        "<p>t.me/<b></b>+SynthSplit1</p>",
        "<p>t.<i>me</i>/+SynthSplit1</p>",
        "<p>t<b>.</b>me/+SynthSplit1</p>",
        "<p>https://t.me/+Synth<span>Split1</span></p>",
        "<p>te<i></i>legram.me/+SynthSplit1</p>",
    ],
)
def test_markup_splits_judged_on_visible_text(html: str) -> None:
    assert urls(extract(html)) == ["https://t.me/+SynthSplit1"]


def test_blocks_do_not_join() -> None:
    assert urls(extract("<p>mat</p><p>t.me/+SynthBlock1</p>")) == ["https://t.me/+SynthBlock1"]
    assert extract("<div>discord</div><div>.gg</div>") == []


@pytest.mark.parametrize(
    "html",
    [
        "<p>t&#46;me/&#43;SynthEnt01</p>",
        "<p>t&#x2E;me/+SynthEnt01</p>",
        "<p>t&period;me/+SynthEnt01</p>",
        '<a href="https://t.me/+SynthEnt01?a=1&amp;b=2">x</a>',
        "<p>&#116;&#46;&#109;&#101;/+SynthEnt01</p>",
    ],
)
def test_entities(html: str) -> None:
    assert urls(extract(html)) == ["https://t.me/+SynthEnt01"]


def test_html_escaped_markup_as_text() -> None:
    text = "&lt;a href=&quot;https://t.me/+SynthEsc01&quot;&gt;입장&lt;/a&gt;"
    link = one(text)
    assert (link.url, link.where) == ("https://t.me/+SynthEsc01", "text")


@pytest.mark.parametrize(
    "meta",
    [
        '<meta http-equiv="refresh" content="0; url=https://t.me/+SynthMeta1">',
        "<meta http-equiv='Refresh' content='3;URL=\"https://t.me/+SynthMeta1\"'>",
    ],
)
def test_meta_refresh(meta: str) -> None:
    link = one(f"<html><head>{meta}</head><body>이동 중</body></html>")
    assert (link.url, link.where) == ("https://t.me/+SynthMeta1", "meta")


def test_where_priority_and_first_appearance() -> None:
    html = (
        "<p>먼저 텍스트 t.me/+SynthPrio1 그리고</p>"
        '<p><a href="https://t.me/+SynthPrio2">링크</a></p>'
        '<p><a href="https://t.me/+SynthPrio1">같은 링크</a></p>'
    )
    links = extract(html)
    assert [(x.code, x.where) for x in links] == [("SynthPrio1", "href"), ("SynthPrio2", "href")]


def test_script_and_comment_text_count_as_text() -> None:
    html = "<p>본문</p><script>var u='https://t.me/+SynthScr01';</script><!-- t.me/+SynthCom01 -->"
    assert [(x.code, x.where) for x in extract(html)] == [("SynthScr01", "text"), ("SynthCom01", "text")]


def test_context_is_the_post_collapsed_and_bounded() -> None:
    long_post = "가나다 " * 200
    html = f"<div><p>{long_post}</p><p>링크    t.me/+SynthCtx01\n\n 입니다</p><p>{long_post}</p></div>"
    link = one(html)
    assert "t.me/+SynthCtx01" in link.context
    assert len(link.context) <= 300
    assert "  " not in link.context
    assert "\n" not in link.context


def test_context_in_plain_text_is_the_paragraph() -> None:
    text = (
        "첫 문단입니다.\n\n둘째 문단 가입은 https://t.me/+SynthCtx02 여기로 하시면 됩니다 감사합니다 여러분 "
        * 1
    )
    link = one(text)
    assert "둘째 문단 가입은 https://t.me/+SynthCtx02" in link.context


KOREAN = (
    "<html><head>{meta}</head><body>"
    "<p>텔레그램 채널 입장: https://t.me/+SynthKr001 감사합니다</p></body></html>"
)


@pytest.mark.parametrize(
    "meta",
    ['<meta charset="euc-kr">', '<meta http-equiv="Content-Type" content="text/html; charset=EUC-KR">', ""],
)
def test_euc_kr_bytes_with_and_without_declared_charset(meta: str) -> None:
    body = KOREAN.format(meta=meta).encode("euc-kr")
    link = one(body)
    assert link.url == "https://t.me/+SynthKr001"
    assert "텔레그램 채널 입장" in link.context


def test_charset_from_content_type_header() -> None:
    body = KOREAN.format(meta="").encode("cp949")
    assert decode(body, "text/html; charset=ks_c_5601-1987").count("텔레그램") == 1
    link = one(body, content_type="text/html; charset=euc-kr")
    assert "텔레그램" in link.context


def test_explicit_encoding_wins_and_invalid_bytes_never_crash() -> None:
    body = "t.me/+SynthEnc01 안녕".encode("utf-16-le")
    assert decode(body, encoding="utf-16-le").startswith("t.me/+SynthEnc01")
    broken = b"\x80\xfd\xff t.me/+SynthEnc02 \xc0\xaf\x80 \xed\xa0\x80"
    assert urls(extract(broken)) == ["https://t.me/+SynthEnc02"]
    assert isinstance(decode(broken, "text/html; charset=no-such-codec"), str)


def test_plain_text_detection() -> None:
    assert one("a < b and t.me/+SynthTxt01 > c").where == "text"
    assert one("<p>t.me/+SynthTxt01</p>", content_type="text/plain").url == "https://t.me/+SynthTxt01"


def test_shorteners_alone_yield_nothing_but_are_listed() -> None:
    html = '<p>https://bit.ly/3SynthA</p><a href="http://tinyurl.com/synthb">x</a><p>me2.do/SynthC</p>'
    assert extract(html) == []
    assert shortener_urls(html) == [
        "https://bit.ly/3SynthA",
        "https://tinyurl.com/synthb",
        "https://me2.do/SynthC",
    ]


def test_link_as_dict() -> None:
    link = one("<p>t.me/+SynthDict1</p>")
    assert link.as_dict() == {
        "platform": "telegram",
        "kind": "invite",
        "code": "SynthDict1",
        "url": "https://t.me/+SynthDict1",
        "raw": "t.me/+SynthDict1",
        "obfuscated": False,
        "where": "text",
        "context": "t.me/+SynthDict1",
    }


def test_relative_redirector_without_base_keeps_raw_as_written() -> None:
    href = "/out?u=" + base64.b64encode(b"https://t.me/+SynthRaw01").decode()
    link = one(f'<a class="btn" href="{href}">바로가기</a>')
    assert (link.url, link.where, link.raw) == ("https://t.me/+SynthRaw01", "redirect", href)


def test_utf8_body_says_which_bytes_are_read_as_utf8() -> None:
    from linkwatch.extract.charset import utf8_body

    page = "<html><head>{}</head><body>가입 t.me/+SynthU8 문의</body></html>"
    utf8 = page.format('<META CHARSET="UTF-8">').encode()
    assert utf8_body(utf8) == utf8
    assert utf8_body(b"\xef\xbb\xbf" + utf8) == utf8
    assert utf8_body(page.format('<meta charset="euc-kr">').encode("euc-kr")) is None
    assert utf8_body(utf8, encoding="cp949") is None
    assert utf8_body(utf8, content_type="text/html; charset=euc-kr") is None
    assert utf8_body(b"plain ascii t.me/+SynthU8") == b"plain ascii t.me/+SynthU8"
    assert utf8_body(page.format("").encode()) is None  # undeclared non-ASCII: decoded first
