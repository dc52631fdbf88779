"""How commands print: tables fitted to the terminal (IDs and codes never cut), CSV safe for spreadsheets,
JSON and JSON lines streamed; every time in the one configured zone, labelled."""

from __future__ import annotations

import csv
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import click

from linkwatch.cli.params import CSV, JSON, JSONL, TEXT
from linkwatch.text import for_cell, for_terminal, json_for_terminal

TABLE_TIME = "%Y-%m-%d %H:%M"


# -- times -------------------------------------------------------------------------------------------

def local(value: datetime | None, tz: ZoneInfo, fmt: str | None = None) -> str:
    """A timestamp in the configured time zone, ISO 8601 with its offset (or `fmt`)."""
    if value is None:
        return ""
    value = value.astimezone(tz)
    return value.strftime(fmt) if fmt else value.isoformat()


def stamp(value: datetime | None, tz: ZoneInfo) -> str:
    """A timestamp for a line of text: `2026-11-02 12:00 KST`, the zone's abbreviation as its label."""
    if value is None:
        return "-"
    return value.astimezone(tz).strftime(f"{TABLE_TIME} %Z")


def zone_note(tz: ZoneInfo) -> str:
    """The label under a table whose times carry no zone of their own."""
    return f"times in {tz.key}"


def parse_when(text: str, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """YYYY-MM-DD or an ISO datetime; naive values are in the configured zone. A date as --until
    means the whole day, so it becomes the next midnight; the last day there is (9999-12-31) as
    --until means no upper bound (None)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                if day == date.max:
                    return None
                day += timedelta(days=1)
            return datetime.combine(day, time(), tzinfo=tz)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD) or ISO datetime") from exc
    return value if value.tzinfo else value.replace(tzinfo=tz)


# -- JSON ---------------------------------------------------------------------------------------------

def json_default(tz: ZoneInfo) -> Callable[[object], object]:
    """A json.dumps `default` that writes datetimes in the configured zone, with their offset."""

    def default(value: object) -> object:
        if isinstance(value, datetime):
            return local(value, tz)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, tuple | set | frozenset):
            return list(value)
        raise TypeError(type(value).__name__)

    return default


def dumps(value: object, tz: ZoneInfo, *, indent: int | None = None) -> str:
    """JSON text: non-ASCII kept, datetimes in the configured zone with their offset."""
    return json_for_terminal(value, default=json_default(tz), indent=indent)


def emit(rows: Iterable[dict[str, Any]], fmt: str, tz: ZoneInfo, *, text: Callable[[list[dict]], None],
         csv_columns: tuple[str, ...] | None = None) -> int:
    """Prints rows as `fmt`; json, jsonl and csv are written as the rows arrive (any number of them),
    text collects them for `text` (a table needs every row to size its columns). Returns the count."""
    n = 0
    if fmt == TEXT:
        collected = list(rows)
        text(collected)
        return len(collected)
    if fmt == JSONL:
        for row in rows:
            click.echo(dumps(row, tz))
            n += 1
    elif fmt == JSON:
        # One array, one element a line: valid JSON that still streams.
        for row in rows:
            click.echo(("[" if n == 0 else ",") + dumps(row, tz))
            n += 1
        click.echo("[]" if n == 0 else "]")
    elif fmt == CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        columns = csv_columns
        for row in rows:
            if columns is None:
                columns = tuple(row)
            if n == 0:
                writer.writerow(columns)
            writer.writerow([csv_cell(row.get(key), tz) for key in columns])
            n += 1
        if n == 0 and columns:
            writer.writerow(columns)
        sys.stdout.flush()
    else:  # pragma: no cover - click.Choice has refused it
        raise ValueError(fmt)
    return n


def csv_cell(value: object, tz: ZoneInfo) -> object:
    """A value for a CSV cell: times with their offset, text defused for spreadsheets."""
    if isinstance(value, datetime):
        return local(value, tz)
    if isinstance(value, str):
        return for_cell(value)
    if isinstance(value, list | tuple):
        return for_cell("\n".join(str(v) for v in value))
    return "" if value is None else value


# -- tables -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A table column: `keep` columns are never cut or dropped; the others give way by `rank`
    (highest first); a `shrink` column is cut with … to fill what is left, a `fold` column wraps."""

    key: str
    title: str
    rank: int = 0
    keep: bool = False
    shrink: bool = False
    fold: bool = False
    right: bool = False


def terminal_width() -> int | None:
    """COLUMNS when set, else the terminal's width; None (no limit) when stdout is not a terminal."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def fit(columns: list[Column], cells: list[dict[str, str]], width: int | None) -> list[tuple[Column, int]]:
    """The columns to show and their widths so that the table fits `width` (None: no limit).

    `keep` columns always show at full width (a table wider than the terminal is better than a cut
    ID). Then the others are added from the most important while they fit, at full width, or at
    20 cells for a `shrink` (cut with …) or `fold` (wrapped) column, which then takes what is left.
    """
    natural = {c.key: max([_cell_len(c.title)] + [_cell_len(row.get(c.key, "")) for row in cells])
               for c in columns}
    if width is None:
        return [(c, natural[c.key]) for c in columns]

    def overhead(n: int) -> int:
        return 3 * n + 1  # borders and one space of padding each side

    flexible = [c for c in columns if not c.keep and (c.shrink or c.fold)]
    chosen = {c.key: natural[c.key] for c in columns if c.keep}
    # The most important first; a flexible column (a title, URLs) needs only 20 cells to be placed.
    for c in sorted((c for c in columns if not c.keep), key=lambda c: -c.rank):
        want = min(natural[c.key], 20) if c in flexible else natural[c.key]
        if want <= width - sum(chosen.values()) - overhead(len(chosen) + 1):
            chosen[c.key] = want
    # What is left widens the flexible columns up to their full width.
    for c in sorted((c for c in flexible if c.key in chosen), key=lambda c: -c.rank):
        spare = width - sum(chosen.values()) - overhead(len(chosen))
        chosen[c.key] = min(natural[c.key], chosen[c.key] + max(spare, 0))
    return [(c, chosen[c.key]) for c in columns if c.key in chosen]


def print_table(columns: list[Column], cells: list[dict[str, str]], *, footer: str = "",
                title: str | None = None) -> None:
    """A table of already formatted cells (crawled text made safe here), fitted to the terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    safe = [{k: for_terminal(v, one_line=k not in {c.key for c in columns if c.fold}) for k, v in row.items()}
            for row in cells]
    fitted = fit(columns, safe, terminal_width())
    table = Table(title=title)
    for column, width in fitted:
        table.add_column(column.title, width=width, no_wrap=not column.fold,
                         overflow="fold" if column.fold else "ellipsis",
                         justify="right" if column.right else "left")
    for row in safe:
        table.add_row(*(Text(row.get(c.key, "")) for c, _ in fitted))
    needed = sum(w for _, w in fitted) + 3 * len(fitted) + 1
    # rich must not re-fit the table: the widths above already fit the terminal.
    console = Console(width=max(needed, _cell_len(footer), 20), highlight=False, soft_wrap=False)
    console.print(table)
    if footer:
        console.print(Text(footer), style="dim")


# -- links --------------------------------------------------------------------------------------------

LINK_COLUMNS = [
    Column("id", "ID", keep=True, right=True),
    Column("platform", "platform", rank=9),
    Column("kind", "kind", rank=5),
    Column("code", "code", keep=True),
    Column("score", "score", rank=8, right=True),
    Column("status", "status", rank=7),
    Column("liveness", "live?", rank=6),
    Column("sightings", "seen", rank=4, right=True),
    Column("first_seen", "first seen", rank=2),
    Column("last_seen", "last seen", rank=3),
    Column("preview_title", "preview title", rank=1, shrink=True),
]
LINK_CSV_COLUMNS = (
    "id", "platform", "kind", "code", "url", "first_seen", "last_seen", "sightings", "score", "status",
    "category", "liveness", "checked_at", "preview_title", "member_count",
)


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`1 link`, `2 links`."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"


def link_cells(row: dict[str, Any], tz: ZoneInfo) -> dict[str, str]:
    """One link as table cells."""
    out = {}
    for column in LINK_COLUMNS:
        value = row.get(column.key)
        if isinstance(value, datetime):
            value = local(value, tz, TABLE_TIME)
        elif isinstance(value, float):
            value = f"{value:.2f}"
        out[column.key] = "" if value is None else str(value)
    return out


def print_links(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    """The `links` table: ID and code whole, the other columns give way at narrow widths."""
    print_table(LINK_COLUMNS, [link_cells(r, tz) for r in rows],
                footer=f"{plural(len(rows), 'link')} · {zone_note(tz)}")

