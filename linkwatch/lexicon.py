"""Risk scoring from the analysts' lexicon: weighted Korean and English terms matched in text (pure)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from linkwatch.errors import LinkwatchError

# Longest text scored per call; contexts and titles are capped before this, so it only guards misuse.
MAX_TEXT = 20_000
_SPACE = re.compile(r"\s+")
_TERM_KEYS = {"term", "weight", "note", "search"}


class LexiconError(LinkwatchError, ValueError):
    """Raised by load_lexicon() when the file is missing or malformed; the message is for the analyst."""


@dataclass(frozen=True)
class Term:
    """One lexicon entry."""

    term: str
    weight: float
    note: str
    search: bool = False


def fold(text: str) -> str:
    """The form both terms and texts are matched in: NFKC, case-folded, whitespace removed.

    Korean is written with or without spaces (텔레 방 / 텔레방), so spaces never decide a match.
    """
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Lexicon:
    """Weighted terms; score() combines the weights of every distinct term found."""

    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_folded", tuple((fold(t.term), t.weight) for t in self.terms))

    def matches(self, *texts: str) -> list[Term]:
        """The terms found in any of the texts, in lexicon order."""
        haystack = "\n".join(fold(t[:MAX_TEXT]) for t in texts if t)
        return [t for t, (f, _) in zip(self.terms, self._folded, strict=True) if f in haystack]

    def score(self, *texts: str) -> float:
        """A risk score in [0, 1]: 1 - Π(1 - weight) over the distinct terms found.

        Independent evidence adds up without ever passing 1, and one strong term alone keeps its weight.
        """
        remaining = 1.0
        for term in self.matches(*texts):
            remaining *= 1.0 - term.weight
        return round(1.0 - remaining, 4)

    def search_terms(self) -> list[str]:
        """Terms the analysts flagged for forum search (`search = true`), in lexicon order."""
        return [t.term for t in self.terms if t.search]


def _term(origin: str, index: int, entry: object) -> Term:
    where = f"{origin}: term #{index}"
    if not isinstance(entry, dict):
        raise LexiconError(f"{where} must be a table with term, weight and note")
    name = entry.get("term")
    if not isinstance(name, str) or not fold(name):
        raise LexiconError(f"{where} needs a non-empty string `term`")
    where = f"{origin}: term #{index} ({name!r})"
    unknown = sorted(set(entry) - _TERM_KEYS)
    if unknown:
        raise LexiconError(f"{where} has unknown field `{unknown[0]}` (allowed: term, weight, note, search)")
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise LexiconError(f"{where} needs a `weight` between 0 and 1, got {weight!r}")
    note = entry.get("note")
    if not isinstance(note, str) or not note.strip():
        raise LexiconError(f"{where} needs a one-line `note` saying why it is here")
    if "\n" in note.strip():
        raise LexiconError(f"{where} has a `note` on several lines; keep it to one line")
    search = entry.get("search", False)
    if not isinstance(search, bool):
        raise LexiconError(f"{where} has `search` = {search!r}; use true or false")
    return Term(name.strip(), float(weight), note.strip(), search)


def parse_lexicon(text: str, origin: str = "lexicon") -> Lexicon:
    """Parses lexicon TOML text (`[[term]]` tables); raises LexiconError naming the bad term or field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{origin} is not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"term"})
    if unknown:
        raise LexiconError(f"{origin} has unknown top-level key `{unknown[0]}`; put entries in [[term]]")
    entries = data.get("term")
    if not isinstance(entries, list) or not entries:
        raise LexiconError(f"{origin} has no [[term]] entries")
    terms = [_term(origin, i, e) for i, e in enumerate(entries, start=1)]
    seen: dict[str, str] = {}
    for t in terms:
        key = fold(t.term)
        if key in seen:
            raise LexiconError(f"{origin}: term {t.term!r} repeats {seen[key]!r} (ignoring case and spaces)")
        seen[key] = t.term
    return Lexicon(tuple(terms))


def load_lexicon(path: Path | str) -> Lexicon:
    """Reads and validates a lexicon file; raises LexiconError with one sentence naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LexiconError(f"lexicon file {path} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise LexiconError(f"lexicon file {path} is not UTF-8 text") from exc
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon file {path}: {exc.strerror}") from exc
    return parse_lexicon(text, origin=f"lexicon file {path}")
