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


DEMO_REVIEWER = "linkwatch-demo"


def write_sample_referral(database_url: str, run_ids: list[int], out: Path, config: Config) -> list[Path]:
    """Confirms the links the demo runs found and writes this week's referral files; returns their paths."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pipelines import report, review
    from pipelines.db import connect

    tz = ZoneInfo(config.timezone)
    with connect(database_url, autocommit=True) as conn:
        link_ids = [r[0] for r in conn.execute(
            "SELECT DISTINCT link_id FROM sightings WHERE crawl_run_id = ANY(%s) ORDER BY 1", (run_ids,)
        )]
        for link_id in link_ids:
            review.decide(conn, link_id, "confirm", DEMO_REVIEWER, category="other",
                          note="confirmed automatically by `linkwatch demo` (synthetic data)")
        year, week, _ = datetime.now(tz).isocalendar()
        result = report.weekly(conn, report.make_week(year, week, tz), out, tz=tz, who=DEMO_REVIEWER)
    names = [*result.files, f"linkwatch-referral-{result.week.period}-manifest.json"]
    return [out / name for name in names]


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port for the demo forum on 127.0.0.1 (0: any free port).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("linkwatch-demo"),
              show_default=True, help="Directory for the demo's output files (the sample referral).")
@click.option("--database-url",
              help="PostgreSQL URL for the demo's data (default: a separate `linkwatch_demo` database in "
                   "the embedded server; LINKWATCH_DATABASE_URL is deliberately not used).")
def demo(port: int, out: Path, database_url: str | None) -> None:
    """Serve the bundled demo forum on 127.0.0.1, crawl it, and write a sample referral.

    The forum is synthetic (made-up invite codes): a static board with disguised links and a board
    rendered by JavaScript (crawled in Chromium when it is installed). Nothing is fetched from the
    internet. The demo then confirms what it found as reviewer `linkwatch-demo` (an analyst does
    this with `linkwatch review` in real use) and writes this week's referral files to --out.
    Its data never mixes with real work: it uses its own `linkwatch_demo` database and
    LINKWATCH_DATA_DIR/demo for captures, unless --database-url says otherwise.
    """
    from rich.console import Console
    from rich.table import Table

    from crawler.cli.crawl import run_crawls, summary_lines
    from crawler.demo.server import DemoServer
    from pipelines.db import DatabaseError, embedded_url
    from pipelines.migrate import migrate
    from pipelines.runs import SourceLockedError

    base = get_config()
    # Captures, spill files and job state of the demo stay apart from real crawls' data.
    config = base.model_copy(update={"data_dir": Path(base.data_dir) / "demo"})
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
            db_url = database_url or embedded_url(base, database="linkwatch_demo")
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
    try:
        paths = write_sample_referral(db_url, [r.run_id for r in results], out, config)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sample referral for the regulator, this week ({len(paths)} files):")
    for path in paths:
        click.echo(f"  {path}")
