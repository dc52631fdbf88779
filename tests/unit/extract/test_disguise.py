"""Each disguise the rules list, on the hosts it applies to: found, canonical, obfuscated, raw as written."""

from __future__ import annotations

import pytest

from linkwatch.extract import extract
from linkwatch.extract.prefilter import maybe_links

CODE = "SynthQ1w2E3r"

# (written form, canonical URL)
DISGUISES = [
    ("t[.]me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t(.)me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t{.}me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t[dot]me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t dot me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t DOT me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t . me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t .me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("hxxps://t.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("hXXp://telegram.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("https[:]//t.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("https : // t.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t。me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t｡me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t．me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("ｔ．ｍｅ／＋SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("𝐭.𝐦𝐞/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),  # mathematical bold letters (NFKC)
    ("t\u200b.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t\u200c.\u200dme/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t\u2060.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("t.\ufeffme/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("te\u00adlegram.me/+SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("tg[:]//join?invite=SynthQ1w2E3r", "https://t.me/+SynthQ1w2E3r"),
    ("discord dot gg/SynthDc1", "https://discord.gg/SynthDc1"),
    ("discord,gg/SynthDc1", "https://discord.gg/SynthDc1"),
    ("discord , gg/SynthDc1", "https://discord.gg/SynthDc1"),
    ("discord dot gg slash SynthDc1", "https://discord.gg/SynthDc1"),
    ("서버 .gg/SynthDc1 입장", "https://discord.gg/SynthDc1"),
    ("discord[.]com/invite/SynthDc1", "https://discord.gg/SynthDc1"),
    ("open. kakao. com/o/gSynth12", "https://open.kakao.com/o/gSynth12"),
    ("app. element.io/#/room/#synth:example.org", "https://matrix.to/#/%23synth%3Aexample.org"),
    ("staging .element.io/#/room/#synth:example.org", "https://matrix.to/#/%23synth%3Aexample.org"),
    ("open[.]kakao[.]com/o/gSynth12", "https://open.kakao.com/o/gSynth12"),
    ("open dot kakao dot com/o/gSynth12", "https://open.kakao.com/o/gSynth12"),
    ("pf。kakao。com/_SynthCh", "https://pf.kakao.com/_SynthCh"),
    ("ｌｉｎｅ．ｍｅ/R/ti/g/SynthTk_01", "https://line.me/R/ti/g/SynthTk_01"),
    ("chat.whatsapp(.)com/SynthWa0123456789abcd", "https://chat.whatsapp.com/SynthWa0123456789abcd"),
    ("hxxps://signal[.]group/#CjQKSynth", "https://signal.group/#CjQKSynth"),
    ("matrix[.]to/#/#synth:example.org", "https://matrix.to/#/%23synth%3Aexample.org"),
    ("band . us/n/aSynthBand123", "https://band.us/n/aSynthBand123"),
]

HANDLES = [
    ("텔레그램 @SynthChan", "SynthChan"),
    ("텔레그램: @SynthChan", "SynthChan"),
    ("텔레그램 아이디 @SynthChan으로 연락", "SynthChan"),
    ("Telegram @SynthChan", "SynthChan"),
    ("TELEGRAM ID @SynthChan.", "SynthChan"),
    ("텔레그램＠SynthChan", "SynthChan"),
]

NOT_LINKS = [
    "인스타 @SynthChan",  # another platform's word
    "텔레그램 @Syn",  # too short to be registrable
    "텔레그램 @Synth__Chan",
    "t[.]me/+123456",  # refanging never makes a phone number an invite
    "t[.]me/c/123/456",
    "t dot me/share/url?x",
    "discord[.]com/channels/123/456",
    "see it. Me too",  # a sentence, not a spaced host
    "hxxps://bit[.]ly/3Synth",
    "t .men/+SynthQ1w2E3r",
]


@pytest.mark.parametrize(("written", "canonical"), DISGUISES, ids=[w for w, _ in DISGUISES])
def test_disguise_found_and_marked(written: str, canonical: str) -> None:
    text = f"가입 문의 {written} 로 오세요"
    links = extract(text)
    assert [x.url for x in links] == [canonical]
    assert links[0].obfuscated is True
    assert links[0].raw in text
    assert maybe_links(text)


@pytest.mark.parametrize(("written", "name"), HANDLES)
def test_platform_word_handle(written: str, name: str) -> None:
    links = extract(written)
    assert [(x.platform, x.kind, x.code, x.url, x.obfuscated) for x in links] == [
        ("telegram", "public_channel", name, f"https://t.me/{name}", True)
    ]


@pytest.mark.parametrize("text", NOT_LINKS)
def test_disguised_non_links_stay_empty(text: str) -> None:
    assert extract(text) == []


def test_plain_and_disguised_same_link_is_not_obfuscated() -> None:
    links = extract("t[.]me/+SynthQ1w2E3r 그리고 https://t.me/+SynthQ1w2E3r")
    assert len(links) == 1
    assert links[0].obfuscated is False
    assert links[0].raw == "https://t.me/+SynthQ1w2E3r"


def test_order_mixes_plain_and_disguised() -> None:
    text = "A discord dot gg/SynthDc1 B https://t.me/+SynthQ1w2E3r C open[.]kakao[.]com/o/gSynth12"
    assert [x.platform for x in extract(text)] == ["discord", "telegram", "kakao"]
