"""The prefilter is a sound shortcut: it never changes what extract finds, and skips link-free pages."""

from __future__ import annotations

import importlib
import importlib.util
import json
import random
from pathlib import Path

import pytest

import crawler.extract as extract_pkg
from crawler.extract import extract
from crawler.extract.platforms import KNOWN_HOSTS
from crawler.extract.prefilter import maybe_links, special_chars

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "invite_vectors_dev.json"
# bench/ is not an installed package; load its page generator by path (the same pages the bench times)
_SPEC = importlib.util.spec_from_file_location(
    "bench_extract", Path(__file__).resolve().parents[2] / "bench" / "extract.py"
)
assert _SPEC is not None
assert _SPEC.loader is not None
bench_extract = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_extract)
corpus, page = bench_extract.corpus, bench_extract.page

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
    texts = pages + [v["input"] for v in json.loads(CORPUS.read_text(encoding="utf-8"))]
    with_prefilter = [extract(t) for t in texts]
    monkeypatch.setattr(extract_pkg, "maybe_links", lambda _content: True)
    # the module, not the `scan` function the package re-exports under the same name
    monkeypatch.setattr(importlib.import_module("crawler.extract.scan"), "maybe_links", lambda _content: True)
    without = [extract(t) for t in texts]
    assert with_prefilter == without
    assert sum(map(len, without)) > 100


def test_special_characters_all_live_in_planes_0_and_1() -> None:
    assert special_chars(0x110000) == special_chars()
