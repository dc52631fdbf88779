"""`linkwatch sources`: list and validate the forums in a sources file, and show their crawl health."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.output import TABLE_TIME, Column, emit, local, print_table, zone_note
from linkwatch.cli.params import CSV, JSON, JSONL, TEXT, format_option
from linkwatch.errors import EXIT_FLAGGED, LinkwatchError
from linkwatch.sources import check_sources, load_sources, read_sources_file

SOURCE_COLUMNS = [
    Column("name", "name", keep=True),
    Column("enabled", "enabled", rank=6),
    Column("render", "render", rank=5),
    Column("max_pages", "max pages", rank=4, right=True),
    Column("max_depth", "max depth", rank=2, right=True),
    Column("robots", "robots", rank=1),
    Column("schedule", "schedule", rank=3),
    Column("start_urls", "start URLs", rank=7, fold=True),
]
HEALTH_COLUMNS = [
    Column("name", "source", keep=True),
    Column("started_at", "last run", rank=8),
    Column("status", "outcome", rank=9),
    Column("mode", "mode", rank=3),
    Column("pages", "pages", rank=7, right=True),
    Column("skipped_unchanged", "skipped", rank=1, right=True),
    Column("not_modified", "304", rank=1, right=True),
    Column("new_pages", "new pages", rank=1, right=True),
    Column("links", "links", rank=6, right=True),
    Column("new_links", "new", rank=5, right=True),
    Column("errors", "errors", rank=4, right=True),
    Column("media_refused", "media refused", rank=2, right=True),
    Column("flags", "flags", rank=10, fold=True),
]


class SourcesFileError(LinkwatchError):
    """Raised by `sources check` when the file has problems (each printed above the sentence)."""


@click.group()
def sources() -> None:
    """Show and validate source definitions ([[source]] tables in a TOML file)."""


@sources.command("list")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: LINKWATCH_SOURCES or sources.toml).")
@format_option(TEXT, JSON, JSONL, CSV, times=False)
@pass_app
def list_sources(app: App, sources_file: Path | None, fmt: str) -> None:
    """List the sources in the sources file: name, render mode, limits, schedule, start URLs."""
    path = sources_file or app.config.sources
    found = load_sources(path)
    if not found and fmt == TEXT:
        click.echo(f"{path}: no [[source]] tables")
        return

    def text(rows: list[dict[str, Any]]) -> None:
        cells = [{
            "name": r["name"], "enabled": "yes" if r["enabled"] else "no", "render": r["render"],
            "max_pages": str(r["max_pages"]), "max_depth": str(r["max_depth"]),
            "robots": "obey" if r["obey_robots"] else "ignore", "schedule": r["schedule"] or "-",
            "start_urls": "\n".join(r["start_urls"]),
        } for r in rows]
        print_table(SOURCE_COLUMNS, cells, title=str(path))

    emit((s.model_dump(mode="json") for s in found), fmt, app.config.zone, text=text)


@sources.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def check(file: Path) -> None:
    """Validate FILE: every problem is listed (the source and the field at fault, with a suggestion
    for a misspelt field) and the exit status is 1; else says how many sources are valid. A file
    without any [[source]] table is refused."""
    found, problems = check_sources(read_sources_file(file), str(file))
    if not found and not problems:
        problems = [f"{file}: no [[source]] tables; a sources file defines at least one source"]
    if problems:
        for problem in problems[:-1]:
            click.echo(f"Error: {problem}", err=True)
        more = f" ({len(problems)} problems in all)" if len(problems) > 1 else ""
        raise SourcesFileError(problems[-1] + more)
    enabled = sum(1 for s in found if s.enabled)
    click.echo(f"{file}: {len(found)} source(s) valid ({enabled} enabled)")


@sources.command()
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--max-errors", type=click.IntRange(min=0), default=10, show_default=True,
              help="Flag a run with more errors than this (or more than half its requests failing).")
@click.option("--adhoc", is_flag=True, help="Also show ad-hoc sources created by `crawl --url`.")
@format_option(TEXT, JSON, JSONL, CSV)
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Same as --format jsonl.")
@click.option("--fail-on-flags", is_flag=True, help="Exit 3 when any source is flagged (for monitoring).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path),
              help="Also list this file's sources that never ran (default LINKWATCH_SOURCES if it exists).")
@pass_app
def status(app: App, names: tuple[str, ...], max_errors: int, adhoc: bool, fmt: str, as_json: bool,
           fail_on_flags: bool, sources_file: Path | None) -> None:
    """Show each source's last crawl: outcome, mode (full or incremental), pages, pages skipped as
    unchanged, 304 answers, new pages, links, new links, errors, media refused.

    FLAGS says when a source needs a look: the last run failed or was interrupted, found zero
    pages, found zero links where earlier runs found some (layout changed, blocked or gone), or
    had more errors than --max-errors. Runs left 'running' by a process that no longer exists on
    this host are marked interrupted first. Every run of a source: `linkwatch runs --source NAME`.
    """
    from linkwatch.db import health

    if as_json:
        fmt = JSONL
    with app.open_database(autocommit=False) as conn:
        rows = health.source_health(conn, list(names) or None, include_adhoc=adhoc, max_errors=max_errors)
    config = app.config
    tz = config.zone
    if sources_file is None and Path(config.sources).exists():
        sources_file = Path(config.sources)
    if sources_file is not None:
        declared = load_sources(sources_file)
        known = {h.name for h in rows}
        for source in declared:
            if source.name not in known and (not names or source.name in names):
                rows.append(health.SourceHealth(source.name, source.enabled, None, None, None, None, None,
                                                0, 0, 0, 0, 0, None,
                                                flags=["never run"] if source.enabled else []))
        rows.sort(key=lambda h: h.name)
    missing = sorted(set(names) - {h.name for h in rows})
    if missing:
        raise LinkwatchError(f"no source named {missing[0]!r} (not in the database or sources file)")

    def text(records: list[dict[str, Any]]) -> None:
        cells = [{
            "name": r["name"], "started_at": local(r["started_at"], tz, TABLE_TIME) or "never",
            "status": r["status"] or "-", "mode": r["mode"] or "-", "pages": str(r["pages"]),
            "skipped_unchanged": str(r["skipped_unchanged"]), "not_modified": str(r["not_modified"]),
            "new_pages": str(r["new_pages"]), "links": str(r["links"]),
            "new_links": str(r["new_links"]), "errors": str(r["errors"]),
            "media_refused": str(r["media_refused"]), "flags": ", ".join(r["flags"]) or "ok",
        } for r in records]
        print_table(HEALTH_COLUMNS, cells, footer=zone_note(tz))

    emit((dataclasses.asdict(h) for h in rows), fmt, tz, text=text)
    if fail_on_flags and any(h.flags for h in rows):
        raise SystemExit(EXIT_FLAGGED)
