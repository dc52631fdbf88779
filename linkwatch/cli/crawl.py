"""`linkwatch crawl`: crawls configured sources (or one URL ad hoc) into PostgreSQL, with live progress."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from linkwatch.cli import App, pass_app
from linkwatch.cli.params import FiniteFloat
from linkwatch.errors import EXIT_INTERRUPTED, LinkwatchError
from linkwatch.sources import SourcesError, adhoc_source, pick_sources

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Scrapy's download exceptions (their class names, as its stats count them), in a person's words.
UNREACHABLE = (
    ("ConnectionRefused", "connection refused"),
    ("CannotResolveHost", "host name not found"), ("DNSLookup", "host name not found"),
    ("Timeout", "timed out"), ("TimedOut", "timed out"),
    ("SSL", "TLS handshake failed"), ("TLS", "TLS handshake failed"),
    ("ConnectionLost", "connection lost"), ("ResponseNeverReceived", "no response"),
)


class CrawlFailedError(LinkwatchError):
    """Raised by `crawl` when a source could not be crawled (nothing fetched, or the crawl failed)."""


def unreachable_reason(stats: dict) -> str:
    """Why nothing could be fetched, from the run's download exceptions: "connection refused", …"""
    prefix = "downloader/exception_type_count/"
    counts = sorted(((n, k[len(prefix):]) for k, n in stats.items() if k.startswith(prefix)), reverse=True)
    for _n, name in counts:
        for part, words in UNREACHABLE:
            if part.lower() in name.rsplit(".", 1)[-1].lower():
                return words
    return "no page could be downloaded"


def log_level_of(level: str | None, verbose: int, quiet: bool) -> str:
    """Scrapy's LOG_LEVEL from --log-level, or -v (INFO), -vv (DEBUG), -q (ERROR); WARNING otherwise."""
    if level:
        return level.upper()
    if quiet:
        return "ERROR"
    return ("WARNING", "INFO", "DEBUG")[min(verbose, 2)]


@click.command()
@click.argument("names", nargs=-1)
@click.option("--sources", "sources_file", type=click.Path(path_type=Path), default=None,
              help="Sources file (default: LINKWATCH_SOURCES or sources.toml).")
@click.option("--url", help="Crawl this one site ad hoc instead of named sources.")
@click.option("--render", type=click.Choice(["static", "browser"]), default=None,
              help="With --url: fetch pages statically (default) or render them in Chromium.")
@click.option("--allow", multiple=True,
              help="With --url: only follow links matching this regex (repeatable).")
@click.option("--max-pages", type=click.IntRange(1, 10_000_000), default=None, help="Page budget per source.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted or killed crawl from its journal instead of starting over.")
@click.option("--full", is_flag=True,
              help="Fetch every page, not only what can have changed since the source's last crawl.")
@click.option("--redis", "redis_url", metavar="URL",
              help="Be one worker of a distributed crawl sharing this Redis (default: LINKWATCH_REDIS_URL).")
@click.option("--idle-timeout", type=FiniteFloat(0.5), default=30.0, show_default=True, metavar="SECONDS",
              help="Distributed: stop once the shared queue is empty and all workers idle this long (s).")
@click.option("-v", "--verbose", count=True,
              help="More of Scrapy's log: -v adds INFO lines, -vv DEBUG (default: warnings and errors).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors, and no progress line.")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              help="Scrapy's log level (overrides -v/-q).")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append Scrapy's log to this file instead of stderr (progress and summary stay).")
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
    full: bool,
    redis_url: str | None,
    idle_timeout: float,
    verbose: int,
    quiet: bool,
    log_level: str | None,
    log_file: Path | None,
    trigger: str,
) -> None:
    """Crawl sources NAME… from the sources file, or one site with --url.

    Shows live progress on stderr and a summary at the end; each crawl is recorded in crawl_runs
    (`linkwatch runs`). A source crawled before is crawled incrementally: its boards' first pages,
    and only the topics, pages and listing pages that can have changed (--full fetches everything;
    a full sweep also runs every full_sweep_days). A source that could not be reached at all
    (nothing fetched) is an error: the run is marked failed and the exit status is 1. Ctrl-C stops
    cleanly (the run is marked interrupted); --resume continues it.
    With --redis (or LINKWATCH_REDIS_URL) this is one worker of a distributed crawl: start the same
    command on several machines and they share one frontier and page budget.
    """
    from crawler.runner import check_crawlable, fetched_nothing, run_crawls, storage_failure, summary_lines

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
    app.data_dir()  # one sentence now if it cannot be used, not a traceback from inside the crawl
    for note in check_crawlable(sources, config, redis_url=redis_url):
        click.echo(f"note: {note}", err=True)
    if config.default_user_agent:
        click.echo(f"warning: LINKWATCH_USER_AGENT is not set; the forums see {config.user_agent!r}. Set it "
                   "to your organisation and a contact address.", err=True)
    logging = {"LOG_LEVEL": log_level_of(log_level, verbose, quiet)}
    if log_file is not None:
        logging["LOG_FILE"] = str(log_file)
    results = run_crawls(sources, database_url=app.database_url(), config=config, trigger=trigger,
                         resume=resume, redis_url=redis_url, idle_seconds=idle_timeout,
                         progress=not quiet, overrides=logging, full=full)
    for line in summary_lines(results):
        click.echo(line)
    lost = storage_failure(results)
    if lost:
        raise click.ClickException(lost)
    if any(r.status == "interrupted" for r in results):
        hint = " ".join(r.source for r in results) if not url else f"--url {url}"
        click.echo(f"interrupted; continue with: linkwatch crawl {hint} --resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    start = {s.name: s.start_urls[0] for s in sources}
    down = [r for r in results if r.status == "failed" and fetched_nothing(r.stats)]
    if down:
        r = down[0]
        others = f" (and {len(down) - 1} other source(s))" if len(down) > 1 else ""
        where, why = start.get(r.source, r.source), unreachable_reason(r.stats)
        raise CrawlFailedError(f"could not reach {where} ({why}){others}; nothing was fetched and run "
                               f"{r.run_id} is marked failed")
    failed = [r.source for r in results if r.status == "failed"]
    if failed:
        raise CrawlFailedError(f"crawl of {failed[0]!r} failed; see the log above")
