"""`linkwatch crawl`: crawls configured sources (or one URL ad hoc) into PostgreSQL, with live progress."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from crawler.config import Config, get_config
from crawler.sources import Source, SourcesError, adhoc_source, load_sources


@dataclass
class RunResult:
    """What one source's crawl did: its crawl_runs row, status and the figures stored there."""

    source: str
    run_id: int
    status: str
    figures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)


def _search_keywords(config: Config, sources: list[Source]) -> list[str]:
    if not any(s.search_urls for s in sources):
        return []
    from crawler.scoring import load_lexicon

    return list(load_lexicon(config.lexicon).search_terms())


def run_crawls(
    sources: list[Source],
    *,
    database_url: str,
    config: Config | None = None,
    trigger: str = "manual",
    resume: bool = False,
    progress: bool = True,
    overrides: dict[str, Any] | None = None,
    redis_url: str | None = None,
    idle_seconds: float = 30.0,
) -> list[RunResult]:
    """Crawls the sources in this process (concurrently), each recorded in crawl_runs.

    Each source's advisory lock is held on one connection for the whole crawl, so two crawls of one
    source never overlap. Scrapy's JOBDIR (<data_dir>/jobs/<source>) keeps an interrupted crawl's
    queue for `--resume`; a crawl that ends normally removes it. `overrides` (Scrapy settings) is
    for benchmarks and tests that need to switch a component off.

    With `redis_url` this process is one worker of a distributed crawl (crawler.distributed): it
    joins the source's current run in Redis (or starts one), shares its frontier, seen-set and
    page budget with the other workers, takes the source's lock shared, records its own crawl_runs
    row (trigger 'distributed') and stops once the shared queue stayed empty and every worker idle
    for `idle_seconds`.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler import settings as project
    from crawler.spiders.forum import ForumSpider
    from pipelines import runs
    from pipelines.db import connect, require_migrated

    config = config or get_config()
    if redis_url:
        from crawler.distributed import quiet_scrapy_redis

        quiet_scrapy_redis()
    keywords = _search_keywords(config, sources)
    lock_conn = connect(database_url, autocommit=True)
    started: list[tuple[Source, int, int, Path]] = []
    results: list[RunResult] = []
    shared: dict[int, Any] = {}  # run_id -> crawler.distributed.SharedRun
    try:
        require_migrated(lock_conn)
        for source in sources:
            source_id = runs.upsert_source(lock_conn, source)
            alone = runs.lock_source(lock_conn, source_id, source.name, shared=bool(redis_url))
            jobdir = Path(config.data_dir) / "jobs" / source.name
            if redis_url:
                run = _join(redis_url, source.name)  # before start_run: no 'running' row if Redis fails
                try:
                    run_id = runs.start_run(lock_conn, source_id, trigger="distributed", abandon_stale=alone)
                except BaseException:
                    run.leave(finished=False)
                    raise
                shared[run_id] = run
                started.append((source, source_id, run_id, jobdir))
                continue
            if not resume and jobdir.exists():
                shutil.rmtree(jobdir)
            run_trigger = "resume" if resume and jobdir.exists() else trigger
            run_id = runs.start_run(lock_conn, source_id, trigger=run_trigger, jobdir=str(jobdir))
            started.append((source, source_id, run_id, jobdir))

        process = CrawlerProcess(
            {"TWISTED_REACTOR": project.TWISTED_REACTOR, "LOG_LEVEL": project.LOG_LEVEL}
        )
        crawlers = []
        for source, _source_id, run_id, jobdir in started:
            distributed = None
            if run_id in shared:
                from crawler.distributed import scrapy_settings

                run = shared[run_id]
                distributed = scrapy_settings(redis_url, run.keys, run.worker, idle_seconds)
            settings = project.crawl_settings(
                source, config=config, database_url=database_url, run_id=run_id,
                jobdir=None if distributed else jobdir, progress=progress, distributed=distributed,
            )
            settings.update(overrides or {})
            spidercls = type(f"ForumSpider_{run_id}", (ForumSpider,), {"custom_settings": settings})
            crawler = process.create_crawler(spidercls)
            crawlers.append(crawler)
            process.crawl(crawler, source=source, keywords=keywords)
        began = time.monotonic()
        process.start()
        elapsed = time.monotonic() - began
        for (source, _source_id, run_id, jobdir), crawler in zip(started, crawlers, strict=True):
            stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
            status = runs.status_for(stats.get("finish_reason"))
            if run_id in shared:
                run = shared.pop(run_id)
                stats.update({"linkwatch/run_token": run.token, "linkwatch/worker": run.worker,
                              "linkwatch/first_worker": run.first, "linkwatch/trigger": trigger})
                stats["linkwatch/workers_left"] = run.leave(finished=status == "finished")
                run.close()
            figures = runs.finish_run(lock_conn, run_id, status, stats)
            if status == "finished" and jobdir.exists():
                shutil.rmtree(jobdir, ignore_errors=True)
            seconds = float(stats.get("elapsed_time_seconds") or elapsed)
            results.append(RunResult(source.name, run_id, status, figures, seconds, stats))
    except BaseException:
        done = {r.run_id for r in results}
        for _source, _sid, run_id, _jobdir in started:
            if run_id not in done:
                status = "interrupted" if sys.exc_info()[0] is KeyboardInterrupt else "failed"
                runs.finish_run(lock_conn, run_id, status, {})
        raise
    finally:
        for run in shared.values():  # not reached the end: leave the keys for a resumed run
            run.leave(finished=False)
            run.close()
        lock_conn.close()  # releases every advisory lock taken above
    return results


def _join(redis_url: str, source: str) -> Any:
    import redis

    from crawler.distributed import SharedRun

    try:
        return SharedRun.join(redis_url, source)
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnavailableError(f"cannot use Redis for the distributed crawl: {exc}") from None


class RedisUnavailableError(RuntimeError):
    """Raised by run_crawls() when a distributed crawl cannot reach its Redis."""


def summary_lines(results: list[RunResult]) -> list[str]:
    """One line per crawl for the end-of-run summary."""
    lines = []
    for r in results:
        f = r.figures
        rate = f.get("pages", 0) / r.seconds if r.seconds else 0.0
        lines.append(
            f"{r.source}: {r.status} (run {r.run_id}) · {f.get('pages', 0)} pages · "
            f"{f.get('links', 0)} links ({f.get('new_links', 0)} new) · {f.get('errors', 0)} errors · "
            f"{f.get('media_refused', 0)} media refused · {r.seconds:.1f}s ({rate:.1f} pages/s)"
        )
        skipped = r.stats.get("linkwatch/page_limit_skipped", 0)
        if skipped:
            # Not a complete crawl: say so, and how to raise the budget (#12.10).
            budget = r.stats.get("linkwatch/page_budget", "its")
            lines.append(
                f"{r.source}: the page budget of {budget} ran out; {skipped} more links were not followed "
                "(raise it with --max-pages N, or max_pages in the sources file)"
            )
    return lines


def _pick_sources(names: tuple[str, ...], path: Path) -> list[Source]:
    try:
        available = {s.name: s for s in load_sources(path)}
    except SourcesError as exc:
        raise click.ClickException(str(exc)) from None
    missing = [n for n in names if n not in available]
    if missing:
        known = ", ".join(sorted(available)) or "none"
        raise click.ClickException(f"no source named {missing[0]!r} in {path} (sources: {known})")
    return [available[n] for n in dict.fromkeys(names)]


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
              help="Continue an interrupted crawl (Scrapy JOBDIR) instead of starting over.")
@click.option("--redis", "redis_url", metavar="URL",
              help="Be one worker of a distributed crawl sharing this Redis (default: LINKWATCH_REDIS_URL).")
@click.option("--idle-timeout", type=click.FloatRange(min=0.5), default=30.0, show_default=True,
              help="Distributed: stop once the shared queue is empty and all workers idle this long (s).")
@click.option("--trigger", type=click.Choice(["manual", "schedule"]), default="manual", hidden=True)
@click.option("--database-url",
              help="PostgreSQL URL (default: LINKWATCH_DATABASE_URL, else the embedded server).")
def crawl(
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
    database_url: str | None,
) -> None:
    """Crawl sources NAME… from the sources file, or one site with --url.

    Shows live progress on stderr and a summary at the end; each crawl is recorded in crawl_runs.
    Ctrl-C stops cleanly (the run is marked interrupted); --resume continues it.
    With --redis (or LINKWATCH_REDIS_URL) this is one worker of a distributed crawl: start the same
    command on several machines and they share one frontier and page budget.
    """
    from crawler.scoring import LexiconError, load_lexicon
    from pipelines.db import DatabaseError
    from pipelines.db import database_url as resolve_url
    from pipelines.runs import SourceLockedError

    config = get_config()
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
            raise click.ClickException(str(exc)) from None
    else:
        sources = _pick_sources(names, sources_file or config.sources)
        if max_pages:
            sources = [s.model_copy(update={"max_pages": max_pages}) for s in sources]
    for source in sources:
        if source.render == "browser" and not config.chromium_path():
            raise click.ClickException(
                f"source {source.name!r} needs Chromium: install it (apt-get install chromium) "
                "or set LINKWATCH_CHROMIUM"
            )
        if redis_url and source.render == "browser":
            raise click.ClickException(
                f"source {source.name!r} renders in a browser, which crawls in one process only; "
                "crawl it without --redis (and unset LINKWATCH_REDIS_URL)"
            )
        if not source.enabled:
            click.echo(f"note: source {source.name!r} is disabled; crawling it because you named it",
                       err=True)
    try:
        # The score pipeline loads it too, but only once Scrapy is running: a bad lexicon would
        # then fail every crawl with a traceback in the log instead of one sentence here.
        load_lexicon(config.lexicon)
    except LexiconError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        db_url = database_url or resolve_url(config)
        results = run_crawls(sources, database_url=db_url, config=config, trigger=trigger, resume=resume,
                             redis_url=redis_url, idle_seconds=idle_timeout)
    except (DatabaseError, SourceLockedError, RedisUnavailableError, LexiconError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary_lines(results):
        click.echo(line)
    if any(r.status == "interrupted" for r in results):
        hint = " ".join(r.source for r in results) if not url else f"--url {url}"
        click.echo(f"interrupted; continue with: linkwatch crawl {hint} --resume", err=True)
        sys.exit(130)
    failed = [r.source for r in results if r.status == "failed"]
    if failed:
        raise click.ClickException(f"crawl of {failed[0]!r} failed; see the log above")
