"""`linkwatch crawl`: crawls configured sources (or one URL ad hoc) into PostgreSQL, with live progress."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from linkwatch.cli import App, pass_app
from linkwatch.errors import EXIT_INTERRUPTED
from linkwatch.sources import SourcesError, adhoc_source, pick_sources


@click.command()
@click.argument("names", nargs=-1)
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: LINKWATCH_SOURCES or sources.toml).")
@click.option("--url", help="Crawl this one site ad hoc instead of named sources.")
@click.option("--render", type=click.Choice(["static", "browser"]), default=None,
              help="With --url: fetch pages statically (default) or render them in Chromium.")
@click.option("--allow", multiple=True,
              help="With --url: only follow links matching this regex (repeatable).")
@click.option("--max-pages", type=click.IntRange(min=1), default=None, help="Page budget per source.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted or killed crawl from its journal instead of starting over.")
@click.option("--redis", "redis_url", metavar="URL",
              help="Be one worker of a distributed crawl sharing this Redis (default: LINKWATCH_REDIS_URL).")
@click.option("--idle-timeout", type=click.FloatRange(min=0.5), default=30.0, show_default=True,
              help="Distributed: stop once the shared queue is empty and all workers idle this long (s).")
@click.option("--trigger", type=click.Choice(["manual", "schedule"]), default="manual", hidden=True)
@pass_app
def crawl(
    app: App,
    names: tuple[str, ...],
    sources_file: Path | None,
    url: str | None,
    render: str | None,
    allow: tuple[str, ...],
    max_pages: int | None,
    resume: bool,
    redis_url: str | None,
    idle_timeout: float,
    trigger: str,
) -> None:
    """Crawl sources NAME… from the sources file, or one site with --url.

    Shows live progress on stderr and a summary at the end; each crawl is recorded in crawl_runs.
    Ctrl-C stops cleanly (the run is marked interrupted); --resume continues it.
    With --redis (or LINKWATCH_REDIS_URL) this is one worker of a distributed crawl: start the same
    command on several machines and they share one frontier and page budget.
    """
    from crawler.runner import check_crawlable, run_crawls, storage_failure, summary_lines

    config = app.config
    redis_url = redis_url or config.redis_url
    if url and names:
        raise click.UsageError("give source NAMEs or --url, not both")
    if not url and not names:
        raise click.UsageError("give at least one source NAME, or --url URL")
    if not url and (render or allow):
        raise click.UsageError("--render and --allow go with --url")
    if redis_url and resume:
        raise click.UsageError("--resume is for a single-process crawl; a distributed run resumes in Redis")
    if url:
        try:
            sources = [adhoc_source(url, render=render or "static", allow=list(allow),
                                    max_pages=max_pages or 200)]
        except SourcesError as exc:
            raise click.UsageError(str(exc)) from None
    else:
        sources = pick_sources(names, sources_file or config.sources)
        if max_pages:
            sources = [s.model_copy(update={"max_pages": max_pages}) for s in sources]
    for note in check_crawlable(sources, config, redis_url=redis_url):
        click.echo(f"note: {note}", err=True)
    results = run_crawls(sources, database_url=app.database_url(), config=config, trigger=trigger,
                         resume=resume, redis_url=redis_url, idle_seconds=idle_timeout)
    for line in summary_lines(results):
        click.echo(line)
    lost = storage_failure(results)
    if lost:
        raise click.ClickException(lost)
    if any(r.status == "interrupted" for r in results):
        hint = " ".join(r.source for r in results) if not url else f"--url {url}"
        click.echo(f"interrupted; continue with: linkwatch crawl {hint} --resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    failed = [r.source for r in results if r.status == "failed"]
    if failed:
        raise click.ClickException(f"crawl of {failed[0]!r} failed; see the log above")
