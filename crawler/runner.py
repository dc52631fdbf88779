"""Runs crawls in this process: one Scrapy crawler per source, each recorded in crawl_runs under its lock."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkwatch.config import Config
from linkwatch.errors import LinkwatchError
from linkwatch.sources import Source


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
    from linkwatch.lexicon import load_lexicon

    return list(load_lexicon(config.lexicon).search_terms())


class ChromiumMissingError(LinkwatchError):
    """Raised by check_crawlable() when a browser source is asked for and no Chromium is installed."""


class CrawlSetupError(LinkwatchError):
    """Raised by check_crawlable() for a combination of sources and options that cannot run."""


def check_crawlable(sources: list[Source], config: Config, *, redis_url: str | None = None) -> list[str]:
    """Fails before anything is fetched when a crawl of `sources` cannot run; returns notes to show.

    The lexicon is loaded here too: the score pipeline loads it only once Scrapy runs, where a bad
    file would fail every crawl with a traceback in the log instead of one sentence.
    """
    from linkwatch.lexicon import load_lexicon

    notes = []
    for source in sources:
        if source.render == "browser" and not config.chromium_path():
            raise ChromiumMissingError(
                f"source {source.name!r} needs Chromium: install it (apt-get install chromium) "
                "or set LINKWATCH_CHROMIUM"
            )
        if redis_url and source.render == "browser":
            raise CrawlSetupError(
                f"source {source.name!r} renders in a browser, which crawls in one process only; "
                "crawl it without --redis (and unset LINKWATCH_REDIS_URL)"
            )
        if not source.enabled:
            notes.append(f"source {source.name!r} is disabled; crawling it because you named it")
    load_lexicon(config.lexicon)
    return notes


def run_crawls(
    sources: list[Source],
    *,
    database_url: str,
    config: Config,
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

    With `redis_url` this process is one worker of a distributed crawl (crawler.frontier): it
    joins the source's current run in Redis (or starts one), shares its frontier, seen-set and
    page budget with the other workers, takes the source's lock shared, records its own crawl_runs
    row (trigger 'distributed') and stops once the shared queue stayed empty and every worker idle
    for `idle_seconds`.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler import settings as project
    from crawler.spiders.forum import ForumSpider
    from linkwatch.db import open_database, runs
    from linkwatch.db.warc import database_identity

    if redis_url:
        from crawler.frontier import quiet_scrapy_redis

        quiet_scrapy_redis()
    keywords = _search_keywords(config, sources)
    lock_conn = open_database(database_url)
    started: list[tuple[Source, int, int, Path]] = []
    results: list[RunResult] = []
    shared: dict[int, Any] = {}  # run_id -> crawler.frontier.SharedRun
    try:
        database_id = database_identity(lock_conn)
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
                from crawler.frontier import scrapy_settings

                run = shared[run_id]
                distributed = scrapy_settings(redis_url, run.keys, run.worker, idle_seconds)
            settings = project.crawl_settings(
                source, config=config, database_url=database_url, run_id=run_id,
                jobdir=None if distributed else jobdir, progress=progress, distributed=distributed,
            )
            settings.update(overrides or {})
            settings.setdefault("LINKWATCH_DATABASE_ID", database_id)  # names the capture files
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
            if status == "finished" and run_id not in shared and fetched_nothing(stats):
                status = "failed"  # the site is down or unreachable: not a crawl that found nothing
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

    from crawler.frontier import SharedRun

    try:
        return SharedRun.join(redis_url, source)
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnavailableError(f"cannot use Redis for the distributed crawl: {exc}") from None


class RedisUnavailableError(LinkwatchError):
    """Raised by run_crawls() when a distributed crawl cannot reach its Redis."""


def fetched_nothing(stats: dict[str, Any]) -> bool:
    """True when every request of a crawl failed to download: no page answered (robots.txt aside), and
    the downloader raised (refused, unknown host, timeout). An empty resumed queue is not that."""
    responses = int(stats.get("downloader/response_count", 0)) - int(stats.get("robotstxt/response_count", 0))
    return responses <= 0 and int(stats.get("downloader/exception_count", 0)) > 0


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summary_lines(results: list[RunResult]) -> list[str]:
    """One line per crawl for the end-of-run summary."""
    lines = []
    for r in results:
        f = r.figures
        rate = f.get("pages", 0) / r.seconds if r.seconds else 0.0
        lines.append(
            f"{r.source}: {r.status} (run {r.run_id}) · {_n(f.get('pages', 0), 'page')} · "
            f"{_n(f.get('links', 0), 'link')} ({f.get('new_links', 0)} new) · "
            f"{_n(f.get('errors', 0), 'error')} · {f.get('media_refused', 0)} media refused · "
            f"{r.seconds:.1f}s ({rate:.1f} pages/s)"
        )
    return lines
