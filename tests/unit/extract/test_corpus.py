"""Every vector of the labelled sample (tests/fixtures/corpus): platform, kind, code, canonical URL, order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkwatch.extract import extract

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "invite_vectors_dev.json"
VECTORS = json.loads(CORPUS.read_text(encoding="utf-8"))


def test_corpus_is_the_labelled_sample() -> None:
    assert len(VECTORS) == 102
    assert len({v["id"] for v in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict) -> None:
    links = extract(vector["input"])
    got = [{"platform": x.platform, "kind": x.kind, "code": x.code} for x in links]
    assert got == vector["expected"]
    assert [x.url for x in links] == vector["canonical"]
    assert all(x.obfuscated == vector["obfuscated"] for x in links)
    assert all(x.where == "text" and x.raw and x.context for x in links)
