"""`linkwatch demo`: serves the bundled demo forum, crawls it into PostgreSQL and shows the links found."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from crawler.config import Config, get_config
from crawler.sources import Source


def chromium_available(config: Config) -> bool:
    """True when a Chromium binary is configured or on PATH and actually exists."""
    path = config.chromium_path()
    return bool(path) and (Path(path).is_file() or shutil.which(path) is not None)


def demo_sources(base_url: str, *, browser: bool) -> list[Source]:
    """The demo's sources: the static board, and (with Chromium) the JavaScript-rendered board."""
    sources = [
        Source(name="demo-static", start_urls=[f"{base_url}/"], deny=["/live/"], delay=0.0, max_depth=4,
               max_pages=50),
    ]
    if browser:
        sources.append(
            Source(name="demo-live", start_urls=[f"{base_url}/live/board.html"], allow=["/live/"],
                   render="browser", wait_for="body.loaded", delay=0.0, max_depth=1, max_pages=5)
        )
    return sources


def found_links(database_url: str, run_ids: list[int]) -> list[tuple]:
    """(platform, kind, code, url, found_in, obfuscated, page url) for each sighting in these runs."""
    from pipelines.db import connect

    with connect(database_url) as conn:
        return conn.execute(
            "SELECT l.platform, l.kind, l.code, l.canonical_url, s.found_in, s.obfuscated, p.url "
            "FROM sightings s JOIN links l ON l.id = s.link_id JOIN pages p ON p.id = s.page_id "
            "WHERE s.crawl_run_id = ANY(%s) ORDER BY p.url, l.canonical_url",
            (run_ids,),
        ).fetchall()


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port for the demo forum on 127.0.0.1 (0: any free port).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("linkwatch-demo"),
              show_default=True, help="Directory for the demo's output files (the sample referral).")
@click.option("--database-url",
              help="PostgreSQL URL (default: LINKWATCH_DATABASE_URL, else the embedded server).")
def demo(port: int, out: Path, database_url: str | None) -> None:
    """Serve the bundled demo forum on 127.0.0.1, crawl it, and print the links found.

    The forum is synthetic (made-up invite codes): a static board with disguised links and a board
    rendered by JavaScript (crawled in Chromium when it is installed). Nothing is fetched from the
    internet; the database is LINKWATCH_DATABASE_URL or linkwatch's embedded PostgreSQL.
    """
    from rich.console import Console
    from rich.table import Table

    from crawler.cli.crawl import run_crawls, summary_lines
    from crawler.demo.server import DemoServer
    from pipelines.db import DatabaseError
    from pipelines.db import database_url as resolve_url
    from pipelines.migrate import migrate
    from pipelines.runs import SourceLockedError

    config = get_config()
    browser = chromium_available(config)
    try:
        with DemoServer(port) as server:
            click.echo(f"demo forum: {server.url}/", err=True)
            if not browser:
                click.echo(
                    "Chromium not found (apt-get install chromium, or set LINKWATCH_CHROMIUM): "
                    "crawling the static board only; the JavaScript board needs a browser.",
                    err=True,
                )
            db_url = database_url or resolve_url(config)
            migrate(db_url)
            results = run_crawls(demo_sources(server.url, browser=browser), database_url=db_url,
                                 config=config, trigger="demo")
            media = server.media_requests
    except (DatabaseError, SourceLockedError, OSError) as exc:
        raise click.ClickException(str(exc)) from None

    rows = found_links(db_url, [r.run_id for r in results])
    console = Console(soft_wrap=True)
    table = Table(title=f"Links found on the demo forum ({len(rows)} sightings)")
    for column in ("platform", "kind", "code", "found in", "disguised", "page"):
        table.add_column(column, overflow="fold")
    for platform, kind, code, _url, found_in, obfuscated, page in rows:
        path = page.removeprefix(server.url)
        table.add_row(platform, kind, code, found_in, "yes" if obfuscated else "", path)
    console.print(table)
    for line in summary_lines(results):
        click.echo(line)
    click.echo(f"media requests received by the demo forum: {media}")
    if any(r.status != "finished" for r in results):
        raise click.ClickException("the demo crawl did not finish; see the messages above")
