"""`linkwatch sources`: list and validate the forums described in a sources file."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.cli.health import status as _health_status
from crawler.config import get_config
from crawler.sources import Source, SourcesError, load_sources


def _load(path: Path) -> list[Source]:
    try:
        return load_sources(path)
    except SourcesError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def sources() -> None:
    """Show and validate source definitions ([[source]] tables in a TOML file)."""


@sources.command("list")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: LINKWATCH_SOURCES or sources.toml).")
def list_sources(sources_file: Path | None) -> None:
    """List the sources in the sources file: name, render mode, limits, schedule, start URLs."""
    from rich.console import Console
    from rich.table import Table

    path = sources_file or get_config().sources
    found = _load(path)
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
    found = _load(file)
    enabled = sum(1 for s in found if s.enabled)
    click.echo(f"{file}: {len(found)} source(s) valid ({enabled} enabled)")


# Crawl health lives with the operations code; it is offered here because analysts look for it
# next to the other source commands.
sources.add_command(_health_status, "status")
