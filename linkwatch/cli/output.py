"""How commands print rows: a table sized for the terminal, CSV safe for spreadsheets, JSON lines; times
in the configured zone."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from linkwatch.text import for_cell, for_terminal, json_for_terminal

TABLE_COLUMNS = (
    ("id", "ID"), ("platform", "platform"), ("kind", "kind"), ("code", "code"), ("score", "score"),
    ("status", "status"), ("liveness", "live?"), ("sightings", "seen"), ("first_seen", "first seen"),
    ("last_seen", "last seen"), ("preview_title", "preview title"),
)
CSV_COLUMNS = (
    "id", "platform", "kind", "code", "url", "first_seen", "last_seen", "sightings", "score", "status",
    "category", "liveness", "checked_at", "preview_title", "member_count",
)


def local(value: datetime | None, tz: ZoneInfo, fmt: str | None = None) -> str:
    """A timestamp in the configured time zone, ISO 8601 (or `fmt`)."""
    if value is None:
        return ""
    value = value.astimezone(tz)
    return value.strftime(fmt) if fmt else value.isoformat()


def parse_when(text: str, tz: ZoneInfo, *, end: bool) -> datetime:
    """YYYY-MM-DD or an ISO datetime; naive values are in the configured zone. A date as --until
    means the whole day, so it becomes the next midnight."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=tz)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or ISO datetime") from exc
    return value if value.tzinfo else value.replace(tzinfo=tz)


def json_default(tz: ZoneInfo) -> Callable[[object], object]:
    """A json.dumps `default` that writes datetimes in the configured zone, with their offset."""

    def default(value: object) -> object:
        if isinstance(value, datetime):
            return local(value, tz)
        raise TypeError(type(value).__name__)

    return default


def print_table(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # rich measures East Asian wide characters, so Korean titles stay aligned; outside a terminal
    # it would fold at 80 columns, too narrow for a link table.
    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    table = Table(show_lines=False, pad_edge=False)
    for key, title in TABLE_COLUMNS:
        wide = key in ("preview_title", "code")
        table.add_column(title, overflow="ellipsis", no_wrap=True, max_width=40 if wide else None,
                         justify="right" if key in ("id", "score", "sightings") else "left")
    for row in rows:
        cells = []
        for key, _ in TABLE_COLUMNS:
            value = row.get(key)
            if isinstance(value, datetime):
                value = local(value, tz, "%Y-%m-%d %H:%M")
            elif isinstance(value, float):
                value = f"{value:.2f}"
            cells.append(Text(for_terminal(value, one_line=True)))
        table.add_row(*cells)
    console.print(table)
    console.print(Text(f"{len(rows)} link(s)"), style="dim")


def print_csv(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        out = []
        for key in CSV_COLUMNS:
            value = row.get(key)
            if isinstance(value, datetime):
                value = local(value, tz)
            out.append(for_cell(value) if isinstance(value, str) else ("" if value is None else value))
        writer.writerow(out)


def print_jsonl(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    default = json_default(tz)
    for row in rows:
        click.echo(json_for_terminal(row, default=default))
