"""`linkwatch sources status`: each source's last crawl and the flags that say it needs a look."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("names", nargs=-1, metavar="[SOURCE]...")
@click.option("--max-errors", type=click.IntRange(min=0), default=10, show_default=True,
              help="Flag a run with more errors than this (or more than half its requests failing).")
@click.option("--adhoc", is_flag=True, help="Also show ad-hoc sources created by `crawl --url`.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@click.option("--fail-on-flags", is_flag=True, help="Exit 3 when any source is flagged (for monitoring).")
@click.option("--sources", "sources_file", type=click.Path(path_type=Path),
              help="Also list this file's sources that never ran (default LINKWATCH_SOURCES if it exists).")
@click.option("--database-url", help="PostgreSQL URL (default LINKWATCH_DATABASE_URL or embedded).")
def status(names: tuple[str, ...], max_errors: int, adhoc: bool, as_json: bool, fail_on_flags: bool,
           sources_file: Path | None, database_url: str | None) -> None:
    """Show each source's last crawl: outcome, pages, links, new links, errors, media refused.

    FLAGS says when a source needs a look: the last run failed or was interrupted, found zero
    pages, found zero links where earlier runs found some (layout changed, blocked or gone), or
    had more errors than --max-errors. Runs left 'running' by a process that no longer exists on
    this host are marked interrupted first.
    """
    from rich.console import Console
    from rich.table import Table

    from crawler.config import get_config
    from pipelines import db, health

    try:
        url = database_url or db.database_url(get_config())
        with db.connect(url) as conn:
            db.require_migrated(conn)
            rows = health.source_health(conn, list(names) or None, include_adhoc=adhoc,
                                        max_errors=max_errors)
    except db.DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    config = get_config()
    if sources_file is None and Path(config.sources).exists():
        sources_file = Path(config.sources)
    if sources_file is not None:
        from crawler.sources import SourcesError, load_sources

        try:
            declared = load_sources(sources_file)
        except SourcesError as exc:
            raise click.ClickException(str(exc)) from exc
        known = {h.name for h in rows}
        for source in declared:
            if source.name not in known and (not names or source.name in names):
                rows.append(health.SourceHealth(source.name, source.enabled, None, None, None, None, None,
                                                0, 0, 0, 0, 0, None,
                                                ["never run"] if source.enabled else []))
        rows.sort(key=lambda h: h.name)
    missing = sorted(set(names) - {h.name for h in rows})
    if missing:
        raise click.ClickException(f"no source named {missing[0]!r} (not in the database or sources file)")
    if as_json:
        for h in rows:
            click.echo(json.dumps(h.as_dict(), ensure_ascii=False))
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
        raise SystemExit(3)
