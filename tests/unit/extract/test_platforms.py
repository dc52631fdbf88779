"""parse_url per platform and kind: what is a link, its code and canonical URL, and what is not."""

from __future__ import annotations

import pytest

from linkwatch.extract import parse_url
from linkwatch.extract.platforms import KNOWN_HOSTS, PLATFORMS

POSITIVE = [
    # Telegram
    ("https://t.me/+SynthAbc123", ("telegram", "invite", "SynthAbc123", "https://t.me/+SynthAbc123")),
    (
        "http://www.telegram.me/joinchat/SynthAbc123/x?y=1#z",
        ("telegram", "invite", "SynthAbc123", "https://t.me/+SynthAbc123"),
    ),
    ("tg:join?invite=SynthAbc123", ("telegram", "invite", "SynthAbc123", "https://t.me/+SynthAbc123")),
    ("t.me:443/+SynthAbc123", ("telegram", "invite", "SynthAbc123", "https://t.me/+SynthAbc123")),
    ("www%2etelegram.me/+SynthAbc123", ("telegram", "invite", "SynthAbc123", "https://t.me/+SynthAbc123")),
    ("https://t.me/s/s/SynthChan", ("telegram", "public_channel", "SynthChan", "https://t.me/SynthChan")),
    ("tg://resolve?domain=SynthChan", ("telegram", "public_channel", "SynthChan", "https://t.me/SynthChan")),
    ("synthchan.t.me", ("telegram", "public_channel", "synthchan", "https://t.me/synthchan")),
    ("https://t.me/SynthChan/0", ("telegram", "public_channel", "SynthChan", "https://t.me/SynthChan")),
    ("https://t.me/SynthChan/42", ("telegram", "message", "SynthChan", "https://t.me/SynthChan/42")),
    (
        "tg://resolve?domain=SynthChan&post=7",
        ("telegram", "message", "SynthChan", "https://t.me/SynthChan/7"),
    ),
    ("t.me/addlist/SynthFolder", ("telegram", "folder", "SynthFolder", "https://t.me/addlist/SynthFolder")),
    ("tg://addlist?slug=123456", ("telegram", "folder", "123456", "https://t.me/addlist/123456")),
    # Discord
    ("https://discord.gg/SynthDc", ("discord", "invite", "SynthDc", "https://discord.gg/SynthDc")),
    ("discord.gg/invite/SynthDc", ("discord", "invite", "SynthDc", "https://discord.gg/SynthDc")),
    (
        "https://discordapp.com/invite/Syn-th_Dc?event=1",
        ("discord", "invite", "Syn-th_Dc", "https://discord.gg/Syn-th_Dc"),
    ),
    (
        "https://www.discord.com/invite/SynthDc",
        ("discord", "invite", "SynthDc", "https://discord.gg/SynthDc"),
    ),
    # Kakao
    (
        "https://open.kakao.com/o/gSynth12",
        ("kakao", "invite", "gSynth12", "https://open.kakao.com/o/gSynth12"),
    ),
    (
        "open.kakao.com/me/Synth_Pro7",
        ("kakao", "open_profile", "Synth_Pro7", "https://open.kakao.com/me/Synth_Pro7"),
    ),
    (
        "https://pf.kakao.com/_SynthCh/chat",
        ("kakao", "public_channel", "_SynthCh", "https://pf.kakao.com/_SynthCh"),
    ),
    # LINE
    (
        "https://line.me/R/ti/g/SynthTk_01",
        ("line", "invite", "SynthTk_01", "https://line.me/R/ti/g/SynthTk_01"),
    ),
    ("line://ti/g/SynthTk_01", ("line", "invite", "SynthTk_01", "https://line.me/R/ti/g/SynthTk_01")),
    (
        "https://line.me/ti/g2/SynthOpenChatId0123456789abcdefABCDEF?utm_source=invitation",
        (
            "line",
            "openchat",
            "SynthOpenChatId0123456789abcdefABCDEF",
            "https://line.me/ti/g2/SynthOpenChatId0123456789abcdefABCDEF",
        ),
    ),
    # WhatsApp
    (
        "https://chat.whatsapp.com/invite/SynthWa0123456789abcd",
        ("whatsapp", "invite", "SynthWa0123456789abcd", "https://chat.whatsapp.com/SynthWa0123456789abcd"),
    ),
    (
        "https://www.whatsapp.com/channel/0029SynthChannel01234",
        (
            "whatsapp",
            "public_channel",
            "0029SynthChannel01234",
            "https://whatsapp.com/channel/0029SynthChannel01234",
        ),
    ),
    # Signal
    (
        "https://signal.group/#CjQKSynthFragment_-09",
        ("signal", "invite", "CjQKSynthFragment_-09", "https://signal.group/#CjQKSynthFragment_-09"),
    ),
    ("SGNL://SIGNAL.GROUP/#CjQKSynth", ("signal", "invite", "CjQKSynth", "https://signal.group/#CjQKSynth")),
    # Matrix
    (
        "matrix.to/#/#synth:example.org",
        ("matrix", "room_alias", "#synth:example.org", "https://matrix.to/#/%23synth%3Aexample.org"),
    ),
    (
        "matrix:roomid/synthid:example.org?via=x",
        ("matrix", "room_id", "!synthid:example.org", "https://matrix.to/#/!synthid%3Aexample.org"),
    ),
    (
        "https://matrix.to/#/#synth:example.org/$synthevent?via=x",
        ("matrix", "message", "#synth:example.org", "https://matrix.to/#/%23synth%3Aexample.org/$synthevent"),
    ),
    (
        "https://app.element.io/#/room/#synth:example.org",
        ("matrix", "room_alias", "#synth:example.org", "https://matrix.to/#/%23synth%3Aexample.org"),
    ),
    # Band
    (
        "https://band.us/n/aSynthBand123",
        ("band", "invite", "aSynthBand123", "https://band.us/n/aSynthBand123"),
    ),
    # Session
    (
        "HTTPS://Synth.Example.org:8080/room_1?public_key=" + "ab" * 32,
        (
            "session",
            "community",
            "https://synth.example.org:8080/room_1?public_key=" + "ab" * 32,
            "https://synth.example.org:8080/room_1?public_key=" + "ab" * 32,
        ),
    ),
]

NEGATIVE = [
    "t.me/+123456",  # phone number
    "t.me/+",
    "t.me/+/x",
    "t.me/joinchat//x",
    "t.me/joinchat/123456",
    "t.me/%2Babc%20def",
    "http:t.me/SynthChan",
    "t.me:200/SynthChan",
    "www%252Etelegram.me/SynthChan",
    "t.me/c/1234/56",
    "t.me/share/url?url=x",
    "t.me/proxy?server=x",
    "t.me/addstickers/Synth",
    "t.me/Synth__Chan",
    "t.me/SynthChan_",
    "t.me/1Synth",
    "t.me/abcdefghijklmnop-qrstuvwxyz",
    "tg://resolve?phone=821012345678",
    "tg:addlist?slug=",
    "abc.t.me",
    "joinchat.t.me",
    "t.me.example.com/+SynthAbc123",
    "nott.me/+SynthAbc123",
    "https://telegram.org/faq",
    "https://discord.com/channels/123/456",
    "https://discord.gift/SynthGift",
    "https://discord.new/SynthTmpl",
    "https://discord.com/template/SynthTmpl",
    "https://discord.gg/x",
    "https://open.kakao.com/",
    "https://open.kakao.com.example.net/o/gSynth12",
    "https://line.me/R/ti/p/@synthbot",
    "https://wa.me/821012345678",
    "https://api.whatsapp.com/send?phone=821012345678",
    "http://signal.group/#CjQKSynth",
    "https://signal.group/",
    "https://signal.group/path/#CjQKSynth",
    "https://matrix.to/#/@synthuser:example.org",
    "https://matrix.to/",
    "matrix:u/synthuser:example.org",
    "https://band.us/",
    "https://band.us/band/12345",
    "https://synth.example.org/room?public_key=abc",
    "https://bit.ly/3Synth",
    "",
    "not a url",
]


@pytest.mark.parametrize(("url", "expected"), POSITIVE, ids=[u for u, _ in POSITIVE])
def test_links(url: str, expected: tuple[str, str, str, str]) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize("url", NEGATIVE)
def test_not_links(url: str) -> None:
    assert parse_url(url) is None


def test_every_platform_and_kind_in_the_issue_is_covered() -> None:
    kinds = {(found[0], found[1]) for _, found in POSITIVE}
    assert kinds == {
        ("telegram", "invite"),
        ("telegram", "public_channel"),
        ("telegram", "message"),
        ("telegram", "folder"),
        ("discord", "invite"),
        ("kakao", "invite"),
        ("kakao", "open_profile"),
        ("kakao", "public_channel"),
        ("line", "invite"),
        ("line", "openchat"),
        ("whatsapp", "invite"),
        ("whatsapp", "public_channel"),
        ("signal", "invite"),
        ("matrix", "room_alias"),
        ("matrix", "room_id"),
        ("matrix", "message"),
        ("band", "invite"),
        ("session", "community"),
    }


def test_platform_table_is_data() -> None:
    assert {p.name for p in PLATFORMS} == {
        "telegram",
        "discord",
        "kakao",
        "line",
        "whatsapp",
        "signal",
        "matrix",
        "band",
    }
    assert "t.me" in KNOWN_HOSTS
    assert "open.kakao.com" in KNOWN_HOSTS


def test_redirectors_unwrap_to_a_bounded_depth() -> None:
    inner = "https://t.me/+SynthAbc123"
    from urllib.parse import quote

    url = inner
    for depth in range(1, 6):
        url = f"https://r{depth}.example.com/go?u={quote(url, safe='')}"
        found = parse_url(url)
        if depth <= 4:
            assert found is not None
            assert found[3] == inner
        else:
            assert found is None  # deeper than MAX_DEPTH is not followed


def test_a_value_without_any_mark_is_not_unwrapped_and_that_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every link above, and every host written alone, wrapped as a redirect's value in the ways forums do
    # (plain, percent-encoded, twice, base64, upper case, in a fragment) beside noise values; the resolver
    # skips a value with no host, scheme, `%` or base64 in it: the same links come out as when it reads all
    import base64
    import random
    from urllib.parse import quote

    from linkwatch.extract import resolve as resolve_module

    rng = random.Random(7)
    inner = [url for url, _ in POSITIVE] + [f"https://{h}/SynthName" for h in KNOWN_HOSTS] + NEGATIVE
    forms = [
        lambda u: u,
        lambda u: quote(u, safe=""),
        lambda u: quote(quote(u, safe=""), safe=""),
        lambda u: base64.b64encode(u.encode()).decode() if u.startswith("http") else u,
        lambda u: u.upper(),
        lambda u: f"https://board.example.kr/view?id=1&u={quote(u, safe='')}",
    ]
    urls = []
    for url in inner:
        for form in forms:
            noise = rng.choice(["id=7", "page=2&sort=new", "ref=https://board.example.kr/x?y=1", ""])
            urls.append(f"https://go.example.kr/out.php?{noise}&url={form(url)}")
            urls.append(f"https://go.example.kr/#!/out?to={form(url)}")
    with_skip = [resolve_module._resolve(u, 0) for u in urls]
    monkeypatch.setattr(resolve_module, "_may_hold_link", lambda _url: True)
    assert with_skip == [resolve_module._resolve(u, 0) for u in urls]
    assert sum(map(bool, with_skip)) > len(urls) // 4
