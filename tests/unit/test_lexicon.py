"""linkwatch.lexicon: lexicon loading, clear errors on malformed files, scores and search terms."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from linkwatch.config import DATA_FILES
from linkwatch.lexicon import LexiconError, load_lexicon, parse_lexicon

SMALL = """
[[term]]
term = "지인능욕"
weight = 0.9
note = "acquaintance humiliation"
search = true

[[term]]
term = "텔레 방"
weight = 0.5
note = "telegram room"

[[term]]
term = "Deepfake"
weight = 0.8
note = "english"
search = true
"""


def test_shipped_lexicon_loads_with_the_core_terms() -> None:
    lexicon = load_lexicon(DATA_FILES / "lexicon.toml")
    terms = {t.term for t in lexicon.terms}
    assert {"딥페이크", "지인능욕", "합성", "겹지인", "텔레 방", "deepfake", "nudify"} <= terms
    assert all(0 <= t.weight <= 1 and t.note for t in lexicon.terms)
    assert "지인능욕" in lexicon.search_terms()


def test_score_combines_distinct_terms_and_stays_below_one() -> None:
    lexicon = parse_lexicon(SMALL)
    assert lexicon.score("오늘 날씨") == 0.0
    assert lexicon.score("지인능욕 모집") == pytest.approx(0.9)
    # 0.9 and 0.5 found: 1 - 0.1 * 0.5
    assert lexicon.score("지인능욕", "텔레방 링크") == pytest.approx(0.95)
    assert lexicon.score("지인능욕 지인능욕 지인능욕") == pytest.approx(0.9)  # repeats count once
    assert lexicon.score("지인능욕 텔레 방 DEEPFAKE") < 1.0


def test_matching_ignores_case_width_and_spaces() -> None:
    lexicon = parse_lexicon(SMALL)
    assert [t.term for t in lexicon.matches("ＤＥＥＰ ＦＡＫＥ")] == ["Deepfake"]  # full-width, spaced
    assert [t.term for t in lexicon.matches("텔레방")] == ["텔레 방"]
    assert lexicon.matches("", "") == []


def test_search_terms_are_the_flagged_ones_in_order() -> None:
    assert parse_lexicon(SMALL).search_terms() == ["지인능욕", "Deepfake"]


def test_hostile_text_scores_quickly() -> None:
    lexicon = load_lexicon(DATA_FILES / "lexicon.toml")
    assert lexicon.score("a" * 10_000_000, "\x00" * 1000) == 0.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[term]\nterm = 'x'", "not valid TOML"),
        ("", "no \\[\\[term\\]\\] entries"),
        ("title = 'x'", "unknown top-level key `title`"),
        ("[[term]]\nweight = 0.5\nnote = 'n'", "term #1 needs a non-empty string `term`"),
        ("[[term]]\nterm = '합성'\nweight = 1.5\nnote = 'n'", "term #1 \\('합성'\\) needs a `weight`"),
        ("[[term]]\nterm = '합성'\nweight = 'high'\nnote = 'n'", "between 0 and 1, got 'high'"),
        ("[[term]]\nterm = '합성'\nweight = true\nnote = 'n'", "needs a `weight`"),
        ("[[term]]\nterm = '합성'\nweight = 0.5", "term #1 \\('합성'\\) needs a one-line `note`"),
        ("[[term]]\nterm = '합성'\nweight = 0.5\nnote = '''a\nb'''", "keep it to one line"),
        ("[[term]]\nterm = '합성'\nweight = 0.5\nnote = 'n'\nwieght = 1", "unknown field `wieght`"),
        ("[[term]]\nterm = '합성'\nweight = 0.5\nnote = 'n'\nsearch = 'yes'", "`search` = 'yes'"),
        (
            "[[term]]\nterm = 'Deep Fake'\nweight = 0.5\nnote = 'n'\n"
            "[[term]]\nterm = 'deepfake'\nweight = 0.5\nnote = 'n'",
            "'deepfake' repeats 'Deep Fake'",
        ),
    ],
)
def test_malformed_lexicon_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message) as info:
        parse_lexicon(text)
    assert "\n" not in str(info.value).split(": ", 1)[0]


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="does not exist"):
        load_lexicon(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[[term]]")
    with pytest.raises(LexiconError, match=f"{bad} is not UTF-8"):
        load_lexicon(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[term]]\nterm = 'x'\nweight = 2\nnote = 'n'\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=f"^lexicon file {broken}: term #1 \\('x'\\) needs a `weight`"):
        load_lexicon(broken)


def test_scoring_module_is_pure() -> None:
    code = "import sys, linkwatch.lexicon; assert 'scrapy' not in sys.modules, 'scrapy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
