"""`linkwatch sources`: list and validate the forums in a sources file, and show their crawl health."""

from __future__ import annotations

from pathlib import Path

import click

from linkwatch.cli import App, pass_app
from linkwatch.errors import EXIT_FLAGGED
from linkwatch.sources import load_sources
from linkwatch.text import json_for_terminal


@click.group()
def sources() -> None:
    """Show and validate source definitions ([[source]] tables in a TOML file)."""


@sources.command("list")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: LINKWATCH_SOURCES or sources.toml).")
@pass_app
def list_sources(app: App, sources_file: Path | None) -> None:
    """List the sources in the sources file: name, render mode, limits, schedule, start URLs."""
    from rich.console import Console
    from rich.table import Table

    path = sources_file or app.config.sources
    found = load_sources(path)
    if not found:
        click.echo(f"{path}: no [[source]] tables")
        return
    table = Table(title=str(path))
    for column in ("name", "enabled", "render", "max pages", "max depth", "robots", "schedule", "start URLs"):
        table.add_column(column)
    for s in found:
        table.add_row(
            s.name,
            "yes" if s.enabled else "no",
            s.render,
            str(s.max_pages),
            str(s.max_depth),
            "obey" if s.obey_robots else "ignore",
            s.schedule or "-",
            "\n".join(s.start_urls),
        )
    Console(soft_wrap=True).print(table)


@sources.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def check(file: Path) -> None:
    """Validate FILE: exits 1 with the source and the field at fault, else says how many are valid."""
    found = load_sources(file)
    enabled = sum(1 for s in found if s.enabled)
    click.echo(f"{file}: {len(found)} source(s) valid ({enabled} enabled)")


@sources.command()
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--max-errors", type=click.IntRange(min=0), default=10, show_default=True,
              help="Flag a run with more errors than this (or more than half its requests failing).")
@click.option("--adhoc", is_flag=True, help="Also show ad-hoc sources created by `crawl --url`.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@click.option("--fail-on-flags", is_flag=True, help="Exit 3 when any source is flagged (for monitoring).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path),
              help="Also list this file's sources that never ran (default LINKWATCH_SOURCES if it exists).")
@pass_app
def status(app: App, names: tuple[str, ...], max_errors: int, adhoc: bool, as_json: bool,
           fail_on_flags: bool, sources_file: Path | None) -> None:
    """Show each source's last crawl: outcome, pages, links, new links, errors, media refused.

    FLAGS says when a source needs a look: the last run failed or was interrupted, found zero
    pages, found zero links where earlier runs found some (layout changed, blocked or gone), or
    had more errors than --max-errors. Runs left 'running' by a process that no longer exists on
    this host are marked interrupted first.
    """
    from rich.console import Console
    from rich.table import Table

    from linkwatch.db import health

    with app.open_database(autocommit=False) as conn:
        rows = health.source_health(conn, list(names) or None, include_adhoc=adhoc, max_errors=max_errors)
    config = app.config
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
        raise click.ClickException(f"no source named {missing[0]!r} (not in the database or sources file)")
    if as_json:
        for h in rows:
            click.echo(json_for_terminal(h.as_dict()))
    else:
        table = Table(box=None, pad_edge=False)
        for col in ("source", "last run", "outcome", "pages", "links", "new", "errors", "media refused",
                    "flags"):
            table.add_column(col, justify="right" if col in ("pages", "links", "new", "errors",
                                                                "media refused") else "left")
        for h in rows:
            when = h.started_at.strftime("%Y-%m-%d %H:%M") if h.started_at else "never"
            table.add_row(h.name, when, h.status or "-", str(h.pages), str(h.links), str(h.new_links),
                          str(h.errors), str(h.media_refused), ", ".join(h.flags) or "ok")
        Console(width=200).print(table)
    if fail_on_flags and any(h.flags for h in rows):
        raise SystemExit(EXIT_FLAGGED)
