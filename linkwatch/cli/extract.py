"""`linkwatch extract`: the open-channel links in HTML or text files (or stdin), as JSON lines or a table."""

from __future__ import annotations

import sys
from typing import BinaryIO

import click

from linkwatch.cli.params import CSV, JSON, JSONL, TEXT, format_option
from linkwatch.extract import Link
from linkwatch.extract import extract as extract_links
from linkwatch.text import for_terminal, json_for_terminal

FIELDS = ("platform", "kind", "code", "url", "raw", "obfuscated", "where", "context")


def _read(stream: BinaryIO) -> bytes:
    return stream.read()


def _record(link: Link, name: str | None) -> dict[str, object]:
    record = {f: getattr(link, f) for f in FIELDS}
    if name is not None:
        record["file"] = name
    return record


def _table(rows: list[dict[str, object]], with_file: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, expand=False)
    columns = (("file",) if with_file else ()) + ("platform", "kind", "code", "url", "where", "obfuscated")
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(for_terminal(row[c], one_line=True) for c in columns))
    # a pipe gets a wide table instead of rich's 80-column default, so codes and URLs stay on one line
    Console(width=None if sys.stdout.isatty() else 240).print(table)


@click.command("extract")
@click.option("--base-url", metavar="URL", help="URL the page came from, to resolve relative links.")
@format_option(JSONL, JSON, TEXT, CSV, default=JSONL, times=False)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=True, allow_dash=True))
def extract(base_url: str | None, fmt: str, files: tuple[str, ...]) -> None:
    """Print every open-channel link (Telegram, Discord, Kakao, LINE, …) in FILES, even disguised ones.

    FILES are HTML pages or plain text; with none (or `-`) stdin is read. Bytes are decoded by the
    declared charset or detected (EUC-KR pages work). Each JSON line has platform, kind, code, url
    (canonical), raw, obfuscated, where and context; with several files, also `file`. An unreadable
    file is reported on stderr, the others are still processed, and the exit status is 2.
    """
    names = list(files) or ["-"]
    several = len(names) > 1
    failed = False
    rows: list[dict[str, object]] = []
    for name in names:
        try:
            if name == "-":
                body = _read(sys.stdin.buffer)
            else:
                with open(name, "rb") as fh:
                    body = _read(fh)
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            click.echo(f"linkwatch extract: cannot read {name}: {reason}", err=True)
            failed = True
            continue
        links = extract_links(body, base_url)  # bytes: decoded only when the prefilter finds a candidate
        records = [_record(link, name if several else None) for link in links]
        if fmt == JSONL and records:
            # a file's lines in one write: click.echo flushes on every call
            click.echo("\n".join(map(json_for_terminal, records)))
        elif fmt != JSONL:
            rows.extend(records)
    if fmt == TEXT:
        _table(rows, several)
    elif fmt == JSON:
        click.echo(json_for_terminal(rows))
    elif fmt == CSV:
        import csv

        from linkwatch.text import for_cell

        writer = csv.writer(sys.stdout, lineterminator="\n")
        columns = (("file",) if several else ()) + FIELDS
        writer.writerow(columns)
        for row in rows:
            writer.writerow([for_cell(v) if isinstance(v, str) else v for v in (row.get(c) for c in columns)])
    sys.stdout.flush()
    if failed:
        sys.exit(2)
