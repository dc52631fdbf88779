"""The --platform/--kind vocabulary covers every platform and kind the extractor produces."""

from __future__ import annotations

import json
from pathlib import Path

from linkwatch import vocabulary
from linkwatch.extract import extract

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus" / "invite_vectors_dev.json"


def test_every_extracted_platform_and_kind_is_in_the_vocabulary() -> None:
    found = {(x.platform, x.kind) for v in json.loads(CORPUS.read_text(encoding="utf-8"))
             for x in extract(v["input"])}
    assert found  # the corpus has links
    assert {p for p, _ in found} <= set(vocabulary.platforms())
    assert {k for _, k in found} <= set(vocabulary.kinds())


def test_typos_get_a_suggestion() -> None:
    assert vocabulary.closest("telegarm", vocabulary.platforms()) == "telegram"
    assert vocabulary.closest("channel", vocabulary.kinds()) == "public_channel"
    message = vocabulary.unknown_word("platform", "telegarm", vocabulary.platforms())
    assert message.startswith("unknown platform 'telegarm' (did you mean telegram?); known platforms: ")
