"""Issue #18's disguise families, each with positives and negatives side by side (all synthetic).

Every positive is found once, canonical, `obfuscated` and with its raw form as written, in plain text
and inside an HTML page (read by the candidate spans); every negative yields nothing, also as a page.
The prefilter lets every positive through.
"""

from __future__ import annotations

import pytest

from linkwatch.extract import extract
from linkwatch.extract.prefilter import candidates, maybe_links

TG = "https://t.me/+SynthFam01"
DC = "https://discord.gg/SynthFam02"
KK = "https://open.kakao.com/o/SynthFam03"

# family -> [(written, canonical)], [negatives]
FAMILIES: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "1 look-alike letters (UTS #39)": (
        [
            ("t.mе/+SynthFam01", TG),  # Cyrillic е
            ("dіscord.gg/SynthFam02", DC),  # Cyrillic і
            ("оpen.kakao.com/o/SynthFam03", KK),  # Cyrillic о
            ("discοrd.gg/SynthFam02", DC),  # Greek ο
            ("https://t.mе/+SynthFam01", TG),
            ("t.me/јoinchat/SynthFam01", TG),  # Cyrillic ј in the path
        ],
        [
            "Привет, как дела? Я тоже.",
            "Это мой телеграм канал, ссылка в профиле.",
            "Текст на русском: т.е. и т.д.",
            "t.mе.example.org/+SynthFam01",  # a look-alike of another domain
            "dіscord.gift/SynthFam02",  # another host once read
            "t.mе/+821012345678",  # a phone link stays one
            "크기는 3×4 입니다",
        ],
    ),
    "2 marks and invisible characters": (
        [
            ("t̶.̶m̶e̶/̶+̶S̶y̶n̶t̶h̶F̶a̶m̶0̶1̶", TG),  # strikethrough U+0336 over every character
            ("t̵.̵m̵e̵/+SynthFam01", TG),  # U+0335 over the host
            ("d̸i̸s̸c̸o̸r̸d̸.̸g̸g̸/SynthFam02", DC),  # U+0338
            ("t̲.̲m̲e̲/+SynthFam01", TG),  # underline U+0332
            ("open.kakao.c\u00adom/o/SynthFam03", KK),  # soft hyphen
            ("t\u2060.me/+SynthFam01", TG),  # word joiner
            ("t\ufe0f.me/+SynthFam01", TG),  # variation selector
        ],
        [
            "c̶a̶n̶c̶e̶l̶l̶e̶d̶ 이벤트",
            "취̶소̶된 공지",
            "좋아요 ❤️ 감사합니다",
            "t̶.̶m̶e̶/̶+̶8̶2̶1̶0̶1̶2̶3̶4̶5̶6̶7̶8̶",
        ],
    ),
    "3 stretched separators": (
        [
            ("t . me / + SynthFam01", TG),
            ("t  .  me  /  +  SynthFam01", TG),
            ("t\n.\nme\n/\n+\nSynthFam01", TG),
            ("t . me ／ ＋ SynthFam01", TG),
            ("https : // t . me / + SynthFam01", TG),
            ("discord . gg / SynthFam02", DC),
            ("open . kakao . com / o / SynthFam03", KK),
        ],
        [
            "Part 1 / + 2 / + 3",
            "I love it . Me too / + more",
            "t . me . example . org / + SynthFam01",
            "t.me / 텔레그램 / 디스코드",
            "https://t.me/+ https://example.kr",
            "t . me / share / url",
        ],
    ),
    "4 Korean spelled-out hosts": (
        [
            ("티닷미 슬래시 +SynthFam01", TG),
            ("티 닷 미 / + SynthFam01", TG),
            ("티점미 슬러시 플러스 SynthFam01", TG),
            ("t 닷 me 슬래시 +SynthFam01", TG),
            ("디스코드 닷 지지 슬래시 SynthFam02", DC),
            ("open 점 kakao 점 com 슬래시 o 슬래시 SynthFam03", KK),
            ("오픈닷카카오닷컴/o/SynthFam03", KK),
            ("tee dot me slash plus SynthFam01", TG),
        ],
        [
            "이번 업데이트 장점은 10점 만점에 8점",
            "닷컴 버블 시절 얘기",
            "슬래시 명령어는 /help 치면 돼요",
            "디스코드 닷 지지 라는 말 아세요?",
            "티 나게 점잖게 말했어요",
            "갤럭시 플러스 슬래시 울트라 비교",
            "유튜브 닷컴 슬래시 어쩌고",
            "티닷미 슬래시 +821012345678",
            "티닷미닷예시닷오알지 슬래시 SynthFam01",
            "tee dot me is a t-shirt shop",
        ],
    ),
    "5 emoji and symbol separators": (
        [
            ("t🔹me/+SynthFam01", TG),
            ("t•me/+SynthFam01", TG),
            ("t·me/+SynthFam01", TG),
            ("t ● me/+SynthFam01", TG),
            ("t❤️me/+SynthFam01", TG),
            ("discord🔸gg/SynthFam02", DC),
            ("open•kakao•com/o/SynthFam03", KK),
        ],
        [
            "점심 • 저녁 • 야식",
            "오늘 기분 🔹 최고 🔹 me too",
            "A · B · C",
            "t·shirt sale · 50%",
            "t•me•example•org/+SynthFam01",
            "t🔹me/+821012345678",
        ],
    ),
    "6 encoded in plain text": (
        [
            ("t%2Eme/%2BSynthFam01", TG),
            ("t%2eme%2F%2BSynthFam01", TG),
            ("discord%2Egg%2FSynthFam02", DC),
            ("t&#x2E;me/+SynthFam01", TG),
            ("t&#46;me/&#43;SynthFam01", TG),
            ("t&period;me/&plus;SynthFam01", TG),
        ],
        [
            "100%2E5 퍼센트",
            "t%2Eme/%2B821012345678",
            "https://x.example.kr/go?q=t%2Eme",
            "R&D 팀 &amp; 디자인",
        ],
    ),
}

HANDLES = (
    [
        ("텔레그램에서 @SynthFamName 검색", "SynthFamName"),
        ("텔레 아이디: @SynthFamName", "SynthFamName"),
        ("텔레 아이디 @SynthFamName 추가", "SynthFamName"),
        ("텔레 @SynthFamName 으로 연락", "SynthFamName"),
        ("텔레그램 ID : @SynthFamName", "SynthFamName"),
        ("텔레그램 아이디는 @SynthFamName 입니다", "SynthFamName"),
        ("텔레그램 검색창에 @SynthFamName 입력하세요", "SynthFamName"),
        ("Telegram: search @SynthFamName", "SynthFamName"),
    ],
    [
        "텔레그램 업데이트 후 @ 멘션이 안 돼요",
        "텔레그램에서 @SynthFamName 님이 그러던데요",
        "텔레 @SynthFamName 님 말씀에 동의",
        "인스타 @SynthFamName 검색해 주세요",
        "트위터 아이디: @SynthFamName",
        "텔레그램 @Syn",
        "텔레비전 @SynthFamName 광고",
    ],
)

POSITIVES = [(family, w, c) for family, (pos, _) in FAMILIES.items() for w, c in pos]
NEGATIVES = [(family, text) for family, (_, neg) in FAMILIES.items() for text in neg]


def _page(text: str) -> str:
    shown = text.replace("&", "&amp;")
    return f"<html><body><div class='post'><p>가입 문의</p><p>{shown}</p></div></body></html>"


@pytest.mark.parametrize(("family", "written", "canonical"), POSITIVES, ids=[w for _, w, _ in POSITIVES])
def test_found_obfuscated_with_raw_form(family: str, written: str, canonical: str) -> None:
    text = f"가입 문의 {written} 로 오세요"
    links = extract(text)
    assert [x.url for x in links] == [canonical], family
    assert links[0].obfuscated is True
    assert links[0].raw in text
    assert maybe_links(text)


@pytest.mark.parametrize(("family", "written", "canonical"), POSITIVES, ids=[w for _, w, _ in POSITIVES])
def test_found_in_a_page(family: str, written: str, canonical: str) -> None:
    page = _page(written)  # the page shows `written` (an entity in it is escaped once more)
    links = extract(page.encode())
    assert [x.url for x in links] == [canonical], family
    assert links[0].obfuscated is True
    assert candidates(page.encode())


@pytest.mark.parametrize(("family", "text"), NEGATIVES, ids=[t for _, t in NEGATIVES])
def test_ordinary_text_yields_nothing(family: str, text: str) -> None:
    assert extract(text) == [], family
    assert extract(_page(text).encode()) == [], family


@pytest.mark.parametrize(("written", "name"), HANDLES[0], ids=[w for w, _ in HANDLES[0]])
def test_7_instructions_naming_a_handle(written: str, name: str) -> None:
    links = extract(f"문의는 {written}")
    assert [(x.kind, x.url, x.obfuscated) for x in links] == [
        ("public_channel", f"https://t.me/{name}", True)
    ]
    assert maybe_links(written)


@pytest.mark.parametrize("text", HANDLES[1])
def test_7_handles_in_ordinary_prose_yield_nothing(text: str) -> None:
    assert extract(text) == []


def test_plain_link_beside_its_disguise_is_not_obfuscated() -> None:
    links = extract("티닷미 슬래시 +SynthFam01 그리고 https://t.me/+SynthFam01")
    assert [(x.url, x.obfuscated, x.raw) for x in links] == [(TG, False, TG)]


@pytest.mark.parametrize(
    "html",
    [
        "<p>가입 t<br>.<br>me<br>/<br>+SynthFam01 문의</p>",
        "<div>t</div><div>.</div><div>me</div><div>/</div><div>+SynthFam01</div>",
        "<p>티닷미<br>슬래시<br>+SynthFam01</p>",
    ],
)
def test_3_separators_broken_over_lines_of_a_page(html: str) -> None:
    links = extract(html.encode())
    assert [(x.url, x.obfuscated) for x in links] == [(TG, True)]
