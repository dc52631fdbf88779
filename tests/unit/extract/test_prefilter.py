"""The prefilter is a sound shortcut: it never changes what extract finds, and skips link-free pages."""

from __future__ import annotations

import importlib
import importlib.util
import json
import random
from pathlib import Path

import pytest

import linkwatch.extract as extract_pkg
from bench import nearmiss  # the same pages the benchmark times (bench/ is on the tests' path)
from bench.extract import corpus, page
from linkwatch.extract import extract
from linkwatch.extract.markup import Markup, UnusualMarkupError
from linkwatch.extract.platforms import KNOWN_HOSTS
from linkwatch.extract.prefilter import (
    SPECIAL,
    _gate,
    _spans,
    candidates,
    gate,
    gate_windows,
    has_base,
    maybe_links,
    special_chars,
    survey,
    verdict,
)

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "invite_vectors_dev.json"

# Every separator disguise the rules list (and the percent/entity spellings a page may use).
SEPARATORS = [
    ".", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", " dot ", " DOT ", " . ", ". ", " .", "\t.\t",
    "。", "．", "｡", "\u200b.", ".\u200c", "\u2060.", ".\ufeff", "\u00ad.", "%2e", "%2E", "&#46;", "&#x2e;",
    "&period;", "<b></b>.", ".<i></i>", "<b>.</b>",
]  # fmt: skip


def _spell(host: str, sep: str) -> str:
    return sep.join(host.split("."))


@pytest.mark.parametrize("sep", SEPARATORS)
def test_every_host_with_every_separator_passes(sep: str) -> None:
    for host in KNOWN_HOSTS:
        text = f"<p>가입 {_spell(host, sep)}/SynthCode123 문의</p>"
        assert maybe_links(text), text
        assert maybe_links(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "ｔ．ｍｅ／＋SynthCode1",
        "𝐭.𝐦𝐞/+SynthCode1",
        "ⓣ.ⓜⓔ/+SynthCode1",
        "ｄｉｓｃｏｒｄ．ｇｇ／SynthCode1",
        "&#116;&#46;&#109;&#101;/+SynthCode1",
        "텔레그램 @SynthChan",
        "Telegram ID @SynthChan",
        "tg[:]//join?invite=SynthCode1",
        "sgnl://signal.group/#CjQK",
        "matrix:r/synth:example.org",
        "line://ti/g/SynthTk0001",
        "https://x.example.com/go?u=aHR0cHM6Ly90Lm1lLytTeW50aA==",
        "https://synth.example.org/main?public_key=" + "ab" * 32,
        "서버 .gg/SynthDc1",
        "discord,gg/SynthDc1",
        "te<i></i>legram.me/+SynthCode1",
    ],
)
def test_other_disguises_pass(text: str) -> None:
    assert maybe_links(text)


def test_every_labelled_vector_with_a_link_passes() -> None:
    vectors = json.loads(CORPUS.read_text(encoding="utf-8"))
    assert all(maybe_links(v["input"]) for v in vectors if v["expected"])


def test_typical_link_free_pages_are_skipped() -> None:
    _, free = corpus(40, seed=3)
    assert not any(maybe_links(p) for p in free)


def test_prefilter_never_changes_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    pages = [page(rng, rng.randint(0, 25)) for _ in range(25)]
    pages += [p.decode("utf-8") for p in nearmiss.corpus(25, seed=4) if p.isascii() or b"utf-8" in p[:200]]
    texts = pages + [v["input"] for v in json.loads(CORPUS.read_text(encoding="utf-8"))]
    with_prefilter = [extract(t) for t in texts]
    # no prefilter and no candidate spans: every page is walked as a tree and every piece of text scanned
    monkeypatch.setattr(extract_pkg, "verdict", lambda _raw, _windows: SPECIAL)
    monkeypatch.setattr(extract_pkg, "survey", lambda _raw, _windows, _marks: (SPECIAL, None))
    monkeypatch.setattr(extract_pkg, "occurrences", lambda *_args: None)
    # the module, not the `scan` function the package re-exports under the same name
    scan_module = importlib.import_module("linkwatch.extract.scan")
    monkeypatch.setattr(scan_module, "maybe_links", lambda _content: True)
    without = [extract(t) for t in texts]
    assert with_prefilter == without
    assert sum(map(len, without)) > 100


def test_special_characters_all_live_in_planes_0_and_1() -> None:
    assert special_chars(0x110000) == special_chars()


def test_every_special_character_is_seen_in_utf8_bytes() -> None:
    # the bytes test finds each character stage 1 changes into URL text, in str and in bytes input
    filler = "<p>게시판 자유 댓글</p>"
    for c in special_chars():
        text = f"{filler}{c}{filler}"
        assert maybe_links(text), repr(c)
        assert maybe_links(text.encode()), repr(c)


def test_link_free_pages_are_skipped_as_bytes_too() -> None:
    _, free = corpus(20, seed=5)
    assert not any(maybe_links(p.encode()) for p in free)


_NOISE = [
    "<b>",
    "</b>",
    "<i></i>",
    " ",
    "\u200b",
    "ｍ",
    "．",
    "텔레그램",
    "게시판",
    "&#46;",
    "%2E",
    ",",
    "\u3002",
    "@",
]
_PATHS = [
    "/+SynthCode9",
    "/SynthCode9",
    "/joinchat/SynthCode9",
    "/o/gSynth01",
    "/ti/g/SynthTk01",
    "/#/#synth:x.org",
]


def _fragment(rng: random.Random) -> str:
    """A random link-like piece: a known host in random disguises, with random noise put in anywhere."""
    labels = rng.choice(KNOWN_HOSTS).split(".")
    text = "".join(
        (label.upper() if rng.random() < 0.2 else label)
        + (rng.choice(SEPARATORS) if i < len(labels) - 1 else "")
        for i, label in enumerate(labels)
    )
    text = rng.choice(["", "https://", "hxxps[:]//", "텔레그램 ", "discord "]) + text + rng.choice(_PATHS)
    for _ in range(rng.randint(0, 2)):
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(_NOISE) + text[at:]
    return text


def test_prefilter_is_a_superset_of_the_scanner_on_random_fragments() -> None:
    rng = random.Random(23)
    checked = found = 0
    for _ in range(3000):
        text = f"<p>{_fragment(rng)}</p>"
        links = extract(text)
        checked += 1
        if links:
            found += 1
            assert maybe_links(text), text
            assert maybe_links(text.encode()), text
    assert checked == 3000
    assert found > 300  # the fragments do build links (about one in seven)


@pytest.mark.parametrize("charset", ["euc-kr", "cp949"])
def test_non_utf8_bytes_are_decoded_before_the_prefilter(charset: str) -> None:
    # `t.me` is ASCII in every charset, but fullwidth forms are not UTF-8 bytes in EUC-KR
    for text in ("가입 ｔ．ｍｅ／＋SynthKr002 문의", "가입 t.me/+SynthKr002 문의"):
        for meta in (f'<meta charset="{charset}">', ""):
            body = f"<html><head>{meta}</head><body><p>{text}</p></body></html>".encode(charset)
            assert [link.url for link in extract(body)] == ["https://t.me/+SynthKr002"], (text, meta)


def test_utf8_pages_as_bytes_give_what_their_text_gives() -> None:
    rng = random.Random(31)
    for links in (0, 0, 3, 12):
        html_page = page(rng, links)
        assert extract(html_page.encode()) == extract(html_page)
        assert extract(("\ufeff" + html_page).encode()) == extract(html_page)


# Issue #18's separators and spellings, and what may ride on a host's letters.
_SEPARATORS_18 = [" . ", "\n.\n", " \n . \n ", "닷", " 점 ", " dot ", "🔹", "•", " · ", "❤️", "%2E", "&#x2E;"]
_LABELS_18 = {"t": ["t", "티", "tee", "t\u0336", "ｔ"], "me": ["me", "미", "mе", "m\u0336e\u0336"]}
_SLASHES_18 = ["/", " / ", " 슬래시 ", "슬래시", "\n/\n", "／", "%2F"]
_PLUSES_18 = ["+", "+ ", "플러스 ", "＋", "%2B"]


def test_prefilter_is_a_superset_on_the_new_disguises() -> None:
    rng = random.Random(18)
    found = 0
    for _ in range(1500):
        host = rng.choice(_LABELS_18["t"]) + rng.choice(_SEPARATORS_18) + rng.choice(_LABELS_18["me"])
        text = f"가입 {host}{rng.choice(_SLASHES_18)}{rng.choice(_PLUSES_18)}SynthNew18 문의"
        links = extract(text)
        if links:
            found += 1
            assert maybe_links(text), text
            assert maybe_links(text.encode()), text
            page = f"<p>{text.replace('&', '&amp;')}</p>".encode()
            assert candidates(page), text
            assert extract(page) == extract(f"<p>{text.replace('&', '&amp;')}</p>"), text
    assert found > 500


def test_the_exact_tests_find_in_the_gate_windows_what_they_find_in_the_whole_page() -> None:
    # the RE2 gate only narrows where the exact tests read: their verdict is the whole page's and they
    # find every candidate the whole page gives; `survey` reads the page wherever `verdict` does not
    # say NO, at a gate mark beside each of the exact tests' candidates
    rng = random.Random(41)
    mixed, free = corpus(30, seed=9)
    texts = [f"<p>{_fragment(rng)}</p>" for _ in range(1500)] + mixed + free
    texts += [v["input"] for v in json.loads(CORPUS.read_text(encoding="utf-8"))]
    # a handle instruction whose `텔레` sits inside a longer gate match (a first label, Hangul, a label)
    texts += ["가입 t텔레me @SynthHandle9 문의", "<p>t 텔레 me: @SynthHandle8</p>"]
    texts += ["line텔레그램.me @SynthHandle7"]
    pages = [t.encode() for t in texts] + [p for p in nearmiss.corpus(30, seed=5) if b"euc-kr" not in p[:300]]
    hits = 0
    for raw in pages:
        whole = ((0, len(raw)),)
        gated = gate(raw)
        windows, marks = gated.windows, gated.marks
        assert list(_spans(_gate(), raw)) == [m.span() for m in _gate().finditer(raw)]  # RE2's own call
        assert windows == gate_windows(raw)
        try:  # the gate finds every place a section of the page reader may start
            assert Markup(raw, gated.sections).sections == Markup(raw).sections
        except UnusualMarkupError:
            with pytest.raises(UnusualMarkupError):
                Markup(raw, gated.sections)
        assert verdict(raw, windows) == verdict(raw, whole), raw[:200]
        exact, narrowed = candidates(raw, True, whole), candidates(raw, True, windows)
        if exact is not None and narrowed is not None:
            assert set(exact) <= set(narrowed), raw[:200]
        seen, found = survey(raw, windows, marks)
        if verdict(raw):
            hits += 1
            assert seen
            assert found != []
        if exact is not None and found is not None:
            for q in exact:  # the mark sits at the end of the seed's match, the exact offset inside it
                assert any(q - 32 <= f <= q + 32 for f in found), (q, raw[:200])
    assert hits > 300
    assert not any(gate_windows(t.encode()) for t in free)  # link-free pages: the gate alone clears them


_BASES = ['<base href="https://t.me/">', '<BaSe href="/">', "<base/>", "<BASE\nhref=/>"]


@pytest.mark.parametrize("tag", _BASES)
def test_the_gate_windows_hold_every_base_element(tag: str) -> None:
    # the page reader declines a page with a <base> (the tree walk resolves against it); it looks for one
    # only in the gate's windows, so the gate must match every <base>, wherever and however it is written
    filler = "<p>게시판 자유 댓글 t.me/share/url?url=x</p>" * 50
    for html_page in (f"<html><head>{tag}</head><body>{filler}</body></html>", f"{filler}{tag}{filler}"):
        raw = html_page.encode()
        assert has_base(raw, gate_windows(raw)), html_page[:80]
    assert not has_base(filler.encode(), gate_windows(filler.encode()))
    assert not has_base(b"<basement>", gate_windows(b"<basement>"))


_SECTIONS = [
    "<script>var a = '<!-- t.me/+SynthSec1 -->';</script>", "<!-- <script> -->", "<STYLE>p{}</STYLE>",
    "<Script src=x></script>", "<!---->", "<script/>", "<scripts>", "<styles>", "<textarea>x</textarea>",
    "<?php x ?>", "<![CDATA[x]]>", "<template>x</template>", "<p>t.me/+SynthSec2</p>", "<span>s</span>",
]  # fmt: skip


def test_the_gate_finds_every_section_start() -> None:
    rng = random.Random(43)
    for _ in range(400):
        raw = "".join(rng.choice(_SECTIONS) for _ in range(rng.randint(1, 12))).encode()
        gated = gate(raw)
        try:
            expected = Markup(raw).sections
        except UnusualMarkupError:
            with pytest.raises(UnusualMarkupError):
                Markup(raw, gated.sections)
            continue
        assert Markup(raw, gated.sections).sections == expected, raw
