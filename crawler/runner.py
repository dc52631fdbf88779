"""Runs crawls in this process: one Scrapy crawler per source, each recorded in crawl_runs under its lease.

Before a source is crawled, whatever an earlier crawl of it left in its journals (pages a kill or an
outage kept from PostgreSQL) is stored, and that run's figures recorded; `--resume` then continues the
frontier those journals hold. After the crawl its end is recorded, or, when PostgreSQL is unreachable
at that moment, kept in the run's journal for the next crawl or `linkwatch db replay`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkwatch.config import Config
from linkwatch.errors import LinkwatchError
from linkwatch.sources import Source
from linkwatch.text import RedactingFilter

log = logging.getLogger(__name__)

UNUSUALLY_FULL = 1000  # pipelines.normalise counts pages with more distinct links than this


@dataclass
class RunResult:
    """What one source's crawl did: its crawl_runs row, status and the figures stored there."""

    source: str
    run_id: int
    status: str
    figures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    recorded: bool = True  # False: PostgreSQL was away at the end; the journal keeps the figures

    @property
    def unstored_pages(self) -> int:
        return int(self.stats.get("linkwatch/unstored_pages") or 0)

    @property
    def lost_pages(self) -> int:
        return int(self.stats.get("linkwatch/lost_pages") or 0)


@dataclass
class _Planned:
    """A crawl about to start: its source, run, journal, the frontier it resumes, its Redis run."""

    source: Source
    source_id: int
    run_id: int
    journal_dir: Path
    frontier: Any = None  # linkwatch.db.journal.Frontier
    shared: Any = None  # crawler.frontier.SharedRun (distributed workers)
    planner: Any = None  # linkwatch.watch.plan.Planner: full or incremental, from url_state


class ChromiumMissingError(LinkwatchError):
    """Raised by check_crawlable() when a browser source is asked for and no Chromium is installed."""


class CrawlSetupError(LinkwatchError):
    """Raised by check_crawlable() for a combination of sources and options that cannot run."""


class RedisUnavailableError(LinkwatchError):
    """Raised by run_crawls() when a distributed crawl cannot reach its Redis."""


def _search_keywords(config: Config, sources: list[Source]) -> list[str]:
    if not any(s.search_urls for s in sources):
        return []
    from linkwatch.lexicon import load_lexicon

    return list(load_lexicon(config.lexicon).search_terms())


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
    full: bool = False,
) -> list[RunResult]:
    """Crawls the sources in this process (concurrently), each recorded in crawl_runs.

    Each source is held by a lease (crawl_leases, renewed every few seconds, so it survives a server
    restart) and its advisory lock, so two crawls of one source never overlap. Every page is journaled
    under <data dir>/journal/<source>/<run id>/ before it counts as done; `resume` continues the
    frontier an interrupted crawl's journal holds. `overrides` (Scrapy settings) is for benchmarks and
    tests that need to switch a component off.

    With `redis_url` this process is one worker of a distributed crawl (crawler.frontier): it joins
    the source's current run in Redis (or starts one), shares its frontier, seen-set and page budget
    with the other workers, takes the source's advisory lock shared, records its own crawl_runs row
    (trigger 'distributed') and stops once the shared queue stayed empty and every worker idle for
    `idle_seconds`.

    A source crawled before is crawled incrementally (linkwatch.watch.plan: its url_state, read here,
    decides what can have changed); its first crawl, `full` and its periodic full sweep fetch everything.
    """
    from scrapy.crawler import CrawlerProcess

    from crawler import settings as project
    from crawler.spiders.forum import ForumSpider
    from linkwatch.db import leases, open_database, runs
    from linkwatch.db.warc import database_identity

    if redis_url:
        from crawler.frontier import quiet_scrapy_redis

        quiet_scrapy_redis()
    keywords = _search_keywords(config, sources)
    lock_conn = open_database(database_url)
    holder = leases.new_holder()
    crawlers: dict[int, Any] = {}  # source id -> crawler, for a lease lost mid-crawl
    keeper = leases.LeaseKeeper(database_url, holder,
                                on_lost=lambda sid: _stop_from_thread(crawlers.get(sid)))
    planned: list[_Planned] = []
    results: list[RunResult] = []
    alert_sender = _alert_sender(database_url, config)
    try:
        database_id = database_identity(lock_conn)
        for source in sources:
            plan = _plan(lock_conn, source, config, holder=holder, trigger=trigger, resume=resume,
                         redis_url=redis_url)
            # A distributed run stays full: its workers share one queue, and a planner per worker
            # (each from its own view of url_state) starved a worker that joined late.
            plan.planner = None if plan.shared is not None else _planner(lock_conn, plan, full=full)
            planned.append(plan)
            if plan.shared is None:
                keeper.add(plan.source_id, plan.run_id)

        process = CrawlerProcess({"TWISTED_REACTOR": project.TWISTED_REACTOR, "LOG_LEVEL": project.LOG_LEVEL,
                                  "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False})
        for handler in logging.getLogger().handlers:  # Scrapy's: it logs settings, the database URL too
            handler.addFilter(RedactingFilter())
        started = []
        for plan in planned:
            distributed = None
            if plan.shared is not None:
                from crawler.frontier import scrapy_settings

                distributed = scrapy_settings(redis_url, plan.shared.keys, plan.shared.worker, idle_seconds)
            settings = project.crawl_settings(
                plan.source, config=config, database_url=database_url, run_id=plan.run_id,
                journal_dir=plan.journal_dir, progress=progress, distributed=distributed,
            )
            settings.update(overrides or {})
            settings.setdefault("LINKWATCH_DATABASE_ID", database_id)  # names the capture files
            spidercls = type(f"ForumSpider_{plan.run_id}", (ForumSpider,), {"custom_settings": settings})
            crawler = process.create_crawler(spidercls)
            crawlers[plan.source_id] = crawler
            started.append((plan, crawler))
            process.crawl(crawler, source=plan.source, keywords=keywords, resume=plan.frontier,
                          planner=plan.planner)
        keeper.start()
        alert_sender.start()  # a thread: delivers alerts within seconds of each batch's commit
        began = time.monotonic()
        # Scrapy's SIGINT/SIGTERM handlers (and progress's) outlive the crawl: give the caller its own
        # back, so a Ctrl-C after the crawl (the demo's console) is not taken for stopping a crawl.
        handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            process.start()
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        elapsed = time.monotonic() - began
        for plan, crawler in started:
            results.append(_finish(database_url, plan, crawler, elapsed, trigger, config.store_wait_seconds))
    except BaseException:
        done = {r.run_id for r in results}
        status = "interrupted" if sys.exc_info()[0] is KeyboardInterrupt else "failed"
        with contextlib.suppress(Exception):  # the database may be the reason we are here
            for plan in planned:
                if plan.run_id not in done:
                    runs.finish_run(lock_conn, plan.run_id, status, {})
        raise
    finally:
        alert_sender.stop()  # after a last delivery of what the crawl's final batches enqueued
        keeper.stop()
        for plan in planned:
            if plan.shared is not None and plan.run_id not in {r.run_id for r in results}:
                plan.shared.leave(finished=False)  # not reached the end: keep the keys for a resumed run
                plan.shared.close()
        with contextlib.suppress(Exception):
            lock_conn.close()  # releases every advisory lock taken above
    return results


def _alert_sender(database_url: str, config: Config) -> Any:
    """The alert sender thread beside the crawl (idle when no alert target is configured)."""
    from linkwatch.alerts.targets import alert_settings
    from linkwatch.jobs.alert_sender import AlertSender

    return AlertSender(database_url, alert_settings(config), config.user_agent)


def _plan(conn: Any, source: Source, config: Config, *, holder: str, trigger: str, resume: bool,
          redis_url: str | None) -> _Planned:
    """Takes the source (lease and lock), settles what earlier crawls left, and records the new run."""
    from linkwatch.alerts.targets import alert_settings, store_policy_of
    from linkwatch.db import leases, runs
    from linkwatch.db.journal import frontier_of, read_journal, run_journal_dir
    from linkwatch.db.replay import Replayed, replay_journals

    source_id = runs.upsert_source(conn, source)
    if redis_url:
        if leases.held_by_another(conn, source_id):
            raise runs.SourceLockedError(f"a non-distributed crawl of source {source.name!r} is running; "
                                         "try again when it has finished")
        alone = runs.lock_source(conn, source_id, source.name, shared=True)
        run = _join(redis_url, source.name)  # before start_run: no 'running' row if Redis fails
        try:
            run_id = runs.start_run(conn, source_id, trigger="distributed", abandon_stale=alone)
        except BaseException:
            run.leave(finished=False)
            raise
        return _Planned(source, source_id, run_id, run_journal_dir(config.data_dir, source.name, run_id),
                        shared=run)
    runs.lock_source(conn, source_id, source.name)  # keeps distributed workers (shared lock) out
    leases.take(conn, source_id, source.name, holder)
    settled = Replayed()
    replay_journals(conn, config.data_dir, settled, source=source.name, keep_frontier=resume,
                    alerts=store_policy_of(alert_settings(config)))  # what a killed crawl found is alerted
    if settled.stored.pages or settled.runs_recorded:
        log.warning("stored %d page(s) an earlier crawl of %s left in its journal", settled.stored.pages,
                    source.name)
    frontier = frontier_of([read_journal(d) for d in settled.kept]) if resume else None
    run_id = runs.start_run(conn, source_id, trigger="resume" if frontier else trigger)
    leases.renew(conn, source_id, holder, run_id)
    journal_dir = run_journal_dir(config.data_dir, source.name, run_id)
    return _Planned(source, source_id, run_id, journal_dir, frontier)


def _planner(conn: Any, plan: _Planned, *, full: bool) -> Any:
    """The run's planner: full or incremental (and why, in the run's row), with the source's url_state."""
    from datetime import UTC, datetime, timedelta

    from linkwatch.db import watch
    from linkwatch.watch.plan import DEFAULT_MAX_INTERVAL, Planner, choose_mode

    now = datetime.now(UTC)
    last, known = watch.last_full(conn, plan.source_id)
    mode, why = choose_mode(known_pages=known, forced_full=full, last_full=last, now=now,
                            sweep_days=plan.source.full_sweep_days)
    # A full crawl reads them too: it still counts each page's changes against them.
    states = watch.load_states(conn, plan.source_id) if known else {}
    watch.set_mode(conn, plan.run_id, mode)
    log.info("%s: %s crawl (%s)", plan.source.name, mode, why)
    high = min(DEFAULT_MAX_INTERVAL, timedelta(days=plan.source.full_sweep_days)) \
        if plan.source.full_sweep_days else DEFAULT_MAX_INTERVAL
    return Planner(mode, states, now, high=max(high, timedelta(hours=1)))


def _save_state(database_url: str, plan: _Planned, stats: dict[str, Any]) -> None:
    """Writes what this crawl learnt of each page (url_state), unless pages were lost: then the next
    crawl plans from the older state and fetches them again."""
    from linkwatch.db import connect, watch

    planner = plan.planner
    if planner is None:
        return
    stats["linkwatch/watch/mode"] = planner.mode
    stats["linkwatch/watch/skipped_unchanged"] = planner.skipped_unchanged()
    if stats.get("linkwatch/lost_pages") or not planner.updates:
        return
    try:
        with connect(database_url, autocommit=True, connect_timeout=5) as conn:
            stats["linkwatch/watch/states_saved"] = watch.save_states(conn, plan.source_id,
                                                                      planner.updates.values())
    except Exception as exc:  # the crawl's pages are safe; only the next crawl's plan is older
        log.warning("could not save the page state of %s (%s); its next crawl refetches more",
                    plan.source.name, exc)


def _finish(database_url: str, plan: _Planned, crawler: Any, elapsed: float, trigger: str,
            wait_seconds: float) -> RunResult:
    """Records the run's end (or keeps it in the journal), and removes the journal once it is not needed."""
    from linkwatch.db import runs
    from linkwatch.db.journal import JournalError, append_to
    from linkwatch.db.replay import remove_journal

    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    reason = stats.get("finish_reason")
    # No finish reason: the crawl was stopped hard (a second Ctrl-C), its journal holds what it found.
    status = "interrupted" if reason is None else runs.status_for(reason)
    if stats.get("linkwatch/lost_pages"):
        status = "failed"
    if status == "finished" and plan.shared is None and fetched_nothing(stats):
        status = "failed"  # the site is down or unreachable: not a crawl that found nothing
    journal = getattr(crawler.spider, "journal", None)
    if journal is not None:
        journal.close()  # a hard stop skipped the spider's own close: make its last records durable
    if plan.shared is not None:
        stats.update({"linkwatch/run_token": plan.shared.token, "linkwatch/worker": plan.shared.worker,
                      "linkwatch/first_worker": plan.shared.first, "linkwatch/trigger": trigger})
        stats["linkwatch/workers_left"] = plan.shared.leave(finished=status == "finished")
        plan.shared.close()
    _save_state(database_url, plan, stats)
    recorded = _record_end(database_url, plan.run_id, status, stats, wait_seconds)
    if not recorded:
        try:
            append_to(plan.journal_dir, [{"t": "e", "status": status, "stats": runs.jsonable(stats)}])
        except JournalError as exc:
            log.error("%s: the figures of run %d are lost", exc, plan.run_id)
    elif status == "finished" and not stats.get("linkwatch/unstored_pages"):
        remove_journal(plan.journal_dir)
    seconds = float(stats.get("elapsed_time_seconds") or elapsed)
    return RunResult(plan.source.name, plan.run_id, status, runs.run_figures(stats), seconds, stats, recorded)


def _record_end(database_url: str, run_id: int, status: str, stats: dict[str, Any],
                wait_seconds: float) -> bool:
    """finish_run() on a fresh connection (the crawl's own may have died with a server restart),
    tried for `wait_seconds`; False when PostgreSQL stayed away."""
    import psycopg

    from linkwatch.db import DatabaseError, connect, runs

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with connect(database_url, autocommit=True, connect_timeout=5) as conn:
                runs.finish_run(conn, run_id, status, stats)
            return True
        except (psycopg.OperationalError, psycopg.InterfaceError, DatabaseError) as exc:
            if time.monotonic() >= deadline:
                log.warning("cannot record the end of run %d (%s); its journal keeps it", run_id, exc)
                return False
            time.sleep(1.0)


def _stop_from_thread(crawler: Any) -> None:
    """Stops a crawler gracefully from another thread (the lease keeper's)."""
    if crawler is None:
        return
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    reactor.callFromThread(lambda: deferred_from_coro(crawler.stop_async()))


def _join(redis_url: str, source: str) -> Any:
    import redis

    from crawler.frontier import SharedRun

    try:
        return SharedRun.join(redis_url, source)
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnavailableError(f"cannot use Redis for the distributed crawl: {exc}") from None


def fetched_nothing(stats: dict[str, Any]) -> bool:
    """True when every request of a crawl failed to download: no page answered (robots.txt aside), and
    the downloader raised (refused, unknown host, timeout). An empty resumed queue is not that."""
    responses = int(stats.get("downloader/response_count", 0)) - int(stats.get("robotstxt/response_count", 0))
    return responses <= 0 and int(stats.get("downloader/exception_count", 0)) > 0


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def summary_lines(results: list[RunResult]) -> list[str]:
    """One line per crawl for the end-of-run summary (and what still waits, or was lost)."""
    lines = []
    for r in results:
        f = r.figures
        rate = f.get("pages", 0) / r.seconds if r.seconds else 0.0
        line = (
            f"{r.source}: {r.status} (run {r.run_id}) · {_n(f.get('pages', 0), 'page')} · "
            f"{_n(f.get('links', 0), 'link')} ({f.get('new_links', 0)} new) · "
            f"{_n(f.get('errors', 0), 'error')} · {f.get('media_refused', 0)} media refused · "
            f"{r.seconds:.1f}s ({rate:.1f} pages/s)"
        )
        full = int(r.stats.get("linkwatch/full_pages") or 0)
        if full:
            line += (f" · {full} page(s) with over {UNUSUALLY_FULL:,} links (most "
                     f"{int(r.stats.get('linkwatch/most_links_on_a_page') or 0):,}; all stored)")
        lines.append(line)
        mode = r.stats.get("linkwatch/watch/mode")
        if mode:
            lines.append(f"{r.source}: {mode} crawl · {f.get('pages', 0)} fetched · "
                         f"{f.get('skipped_unchanged', 0)} skipped as unchanged · "
                         f"{f.get('not_modified', 0)} not modified (304) · "
                         f"{_n(f.get('new_pages', 0), 'new page')} · "
                         f"{_n(f.get('new_links', 0), 'new link')}")
        alerts = int(r.stats.get("linkwatch/alerts_enqueued") or 0)
        if alerts:
            lines.append(f"{r.source}: {_n(alerts, 'alert')} for new links at or above the alert score "
                         "(`linkwatch alerts list` shows what was sent)")
        skipped = int(r.stats.get("linkwatch/page_limit_skipped") or 0)
        if skipped:
            # Not a complete crawl: say so, and how to raise the budget (#12.10).
            budget = r.stats.get("linkwatch/page_budget", "its")
            lines.append(f"{r.source}: the page budget of {budget} ran out; {skipped} more "
                         f"{'link was' if skipped == 1 else 'links were'} not followed "
                         "(raise it with --max-pages N, or max_pages in the sources file)")
        if r.unstored_pages:
            lines.append(f"{r.source}: {r.unstored_pages} page(s) wait in the crawl journal (PostgreSQL was "
                         "unreachable); the next crawl or `linkwatch db replay` stores them")
        if not r.recorded:
            lines.append(f"{r.source}: the figures of run {r.run_id} wait in the crawl journal too")
    return lines


def storage_failure(results: list[RunResult]) -> str | None:
    """One sentence when a crawl could not keep what it found (None when nothing was lost)."""
    for r in results:
        if r.lost_pages:
            links = int(r.stats.get("linkwatch/lost_links") or 0)
            why = r.stats.get("linkwatch/storage_error") or "storage failed"
            return (f"crawl of {r.source!r} stopped: {why}; {r.lost_pages} page(s) with {links} link(s) "
                    "could not be stored")
    return None
