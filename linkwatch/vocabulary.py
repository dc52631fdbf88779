"""The words `--platform` and `--kind` accept: the extractor's platform table, so a typo is refused."""

from __future__ import annotations

from functools import cache

from linkwatch.extract.platforms import PLATFORMS

# Platforms the table parses with their own grammar instead of routes, and the kinds they produce.
PARSER_KINDS = {
    "telegram": ("invite", "public_channel", "message", "folder"),
    "matrix": ("room_alias", "room_id", "message"),
    "session": ("community",),
}


@cache
def platforms() -> tuple[str, ...]:
    """Every platform linkwatch recognises, in the table's order (Session links are recognised on any
    host, outside the table)."""
    return tuple(dict.fromkeys([*(p.name for p in PLATFORMS), *PARSER_KINDS]))


@cache
def kinds() -> tuple[str, ...]:
    """Every kind of link linkwatch records (invite, public_channel, …), sorted."""
    found = {route.kind for p in PLATFORMS for route in p.routes}
    found.update(kind for names in PARSER_KINDS.values() for kind in names)
    return tuple(sorted(found))


def closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The choice a typo most likely meant (`telegarm` → `telegram`), or None."""
    import difflib

    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    if found:
        return found[0]
    # `channel` for `public_channel`: a choice that contains the word whole
    inside = [c for c in choices if word.lower() in c.split("_")]
    return inside[0] if len(inside) == 1 else None


def unknown_word(what: str, word: str, choices: tuple[str, ...] | list[str]) -> str:
    """`unknown platform 'telegarm' (did you mean telegram?); known: …` — one sentence."""
    guess = closest(word, choices)
    hint = f" (did you mean {guess}?)" if guess else ""
    return f"unknown {what} {word!r}{hint}; known {what}s: {', '.join(choices)}"
