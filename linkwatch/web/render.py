"""Templates and the filters that make crawled text inert in HTML: autoescaping, visible control characters,
defanged URLs, highlighted matches; times in the configured zone, labelled."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

import linkwatch

TEMPLATES = Path(__file__).resolve().parent / "templates"

# C0 and C1 controls (but tab, LF, CR), DEL, zero-width characters and the bidi embeddings, overrides
# and isolates: in a page they reorder or hide text ("Trojan Source"), so each is shown as its code
# point. Zero-width characters are also how links are disguised: an investigator should see them.
_HIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]{0,20})://([^/?#]*)(.*)$", re.DOTALL)


def shown(value: object) -> str:
    """Crawled text as a page may show it: hidden and reordering characters as ⟦U+XXXX⟧.

    The result is still plain text: Jinja escapes it (never mark crawled text safe).
    """
    text = "" if value is None else str(value)
    return _HIDDEN.sub(lambda m: f"⟦U+{ord(m.group()):04X}⟧", text)


def defang(url: object) -> str:
    """A URL that no browser or chat client will open when pasted: hxxps://t[.]me/+code."""
    text = shown(url)
    m = _URL.match(text)
    if not m:
        return text.replace(".", "[.]", 1) if "/" in text else text
    scheme, host, rest = m.groups()
    scheme = re.sub("(?i)^http", "hxxp", scheme)
    return f"{scheme}://{host.replace('.', '[.]')}{rest}"


def highlight(context: object, *needles: object) -> Markup:
    """The context with the first needle found (case-insensitive) in <mark>; every part escaped."""
    text = shown(context)
    lowered = text.lower()
    for needle in needles:
        wanted = shown(needle).strip()
        if not wanted:
            continue
        at = lowered.find(wanted.lower())
        if at >= 0:
            end = at + len(wanted)
            return Markup("{}<mark>{}</mark>{}").format(text[:at], text[at:end], text[end:])
    return escape(text)


class Clock:
    """Formats times in the configured zone, always labelled with the zone's abbreviation."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def when(self, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
        if value is None:
            return "–"
        return value.astimezone(self.zone).strftime(fmt)

    def iso(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.zone).isoformat()


def number(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} h"


def environment(zone: ZoneInfo) -> Environment:
    """The Jinja environment: autoescaping on for every template, undefined names an error."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    clock = Clock(zone)
    env.filters.update(shown=shown, defang=defang, when=clock.when, iso=clock.iso, number=number,
                       hours=hours)
    env.globals.update(highlight=highlight, version=linkwatch.__version__, zone=zone.key,
                       zone_label=datetime.now(zone).strftime("%Z"), today=lambda: date.today())
    return env


def render(env: Environment, template: str, /, **context: Any) -> str:
    return env.get_template(template).render(**context)
