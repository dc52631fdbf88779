"""Scrapy settings for linkwatch crawls: project defaults here, per-source values from crawl_settings().

Every linkwatch component reads its LINKWATCH_* setting from its crawler's settings in `from_crawler`;
the defaults below are documented where they are defined. `linkwatch crawl` fills the per-crawl ones
(database, data directory, run, lexicon, source) from its Config through crawl_settings().
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkwatch.config import DATA_FILES

if TYPE_CHECKING:
    from linkwatch.config import Config
    from linkwatch.sources import Source

BOT_NAME = "linkwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Scrapy 2.13+ start API and the asyncio reactor (browser mode drives Playwright on it; one reactor).
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "WARNING"
# No network console of any kind in a crawl process: the telnet console and Scrapy 2.19's remote
# control (an HTTP server whose /execute runs Python, with its token in a file in the home directory).
TELNETCONSOLE_ENABLED = False  # default True
REMOTE_CONTROL_ENABLED = False  # default True

# Politeness (per source in crawl_settings).
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4  # default 8
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5  # ±50%

# Hostile sites: bounded size, time, redirects and retries (RetryMiddleware backs off per attempt).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # default 1 GiB
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024  # default 32 MiB
DOWNLOAD_TIMEOUT = 30  # default 180
REDIRECT_MAX_TIMES = 5  # default 20
# A meta refresh is followed like a link (ForumSpider._follow: scope, account pages, media checks);
# Scrapy's middleware would replace the page by its target, and the page's own links would be lost.
METAREFRESH_ENABLED = False
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
LINKWATCH_RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry, doubled per attempt (backoff.py)
LINKWATCH_RETRY_BACKOFF_MAX = 30.0
COOKIES_ENABLED = False  # no sessions: linkwatch never logs in
DEPTH_PRIORITY = 0  # the spider sets priority = -depth itself (breadth-first)
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# Under the asyncio reactor Scrapy creates CONCURRENT_ITEMS tasks per response (platform notes).
CONCURRENT_ITEMS = 4  # default 100

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100) and everything else: a media URL never becomes a request.
    "crawler.middlewares.media.MediaRefusalMiddleware": 50,
    # A page already fetched under another URL (rel=canonical, redirect, ?page=1) is not fetched again.
    "crawler.middlewares.views.DuplicateViewMiddleware": 55,
    # Just after RetryMiddleware (550) puts a retry back: waits before it goes out again.
    "crawler.middlewares.backoff.RetryBackoffMiddleware": 60,
    # Scrapy's checks only one of the requests that wait for a host's robots.txt (robots.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.WaitingRobotsTxtMiddleware": 100,
}
EXTENSIONS = {
    "crawler.extensions.progress.Progress": 500,
}

ITEM_PIPELINES = {
    "pipelines.capture.CapturePipeline": 100,
    "pipelines.normalise.NormalisePipeline": 200,
    "pipelines.score.ScorePipeline": 300,
    "pipelines.dedupe.DedupePipeline": 400,
    "pipelines.store.StorePipeline": 800,
}

# -- linkwatch's own settings ---------------------------------------------------------------------
# Per crawl, set by crawl_settings() (components refuse to start without the ones they need):
LINKWATCH_DATABASE_URL = None  # PostgreSQL URL the store writes to (pipelines.store)
LINKWATCH_DATA_DIR = None  # WARC captures, spill files, job state (pipelines.capture, pipelines.store)
LINKWATCH_LEXICON = str(DATA_FILES / "lexicon.toml")  # risk lexicon file (pipelines.score); bundled one
LINKWATCH_RUN_ID = None  # the crawl_runs row of this crawl (capture file name, store)
LINKWATCH_SOURCE = None  # the source's name, shown in progress lines
LINKWATCH_JOURNAL_DIR = None  # the run's crawl journal (crawler.spiders.forum, pipelines.store)
# Tunables:
LINKWATCH_PROGRESS = True  # live progress line on stderr (crawler.extensions.progress)
LINKWATCH_PROGRESS_INTERVAL = None  # seconds between progress lines; None: 1 on a terminal, else 10
LINKWATCH_STORE_BATCH_SIZE = 250  # pages per store transaction (pipelines.store)
LINKWATCH_STORE_FLUSH_SECONDS = 5.0  # a partial batch is written once its oldest page is this old
LINKWATCH_STORE_MEMORY_PAGES = 5000  # pages held in memory while PostgreSQL is away (then the journal's)
LINKWATCH_STORE_CLOSE_SECONDS = 30.0  # at the end, how long to keep trying an unreachable PostgreSQL
LINKWATCH_ALERT_SCORE = 0.8  # alert for new links scoring at least this (pipelines.store; a source's wins)
LINKWATCH_ALERT_TARGETS = []  # [key, label] per alert target, no URL or password; empty: alerts off
LINKWATCH_TAB_MAX_USES = 100  # browser: a tab is closed after this many pages (memory stays flat)
LINKWATCH_BROWSER_TABS = 4  # browser: tabs rendering at once (per source: its concurrency, 8 at most)
LINKWATCH_BROWSER_SETTLE_MS = 250  # browser: a page is quiet after this long with no request or DOM change
LINKWATCH_BROWSER_STEP_TIMEOUT = 8.0  # browser: seconds one reveal step (load, click, scroll) may wait
LINKWATCH_BROWSER_ASSET_CACHE_MB = 64  # browser: scripts and stylesheets kept per crawl (each fetched once)
LINKWATCH_CHROMIUM = None  # browser: Chromium's path; None: found on PATH (linkwatch.config.find_chromium)
LINKWATCH_SOURCES = "sources.toml"  # `scrapy crawl forum -a source=NAME` reads the source from here


def source_settings(source: Any) -> dict[str, Any]:
    """The Scrapy settings one source decides: politeness, concurrency, and browser mode's tabs."""
    values: dict[str, Any] = {
        "ROBOTSTXT_OBEY": source.obey_robots,
        "DOWNLOAD_DELAY": source.delay,
        "AUTOTHROTTLE_START_DELAY": max(source.delay, 0.1),
        "CONCURRENT_REQUESTS": max(source.concurrency * 2, 8),
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(source.concurrency),
        # The spider counts depth itself (lw_depth).
        "DEPTH_LIMIT": 0,
        "LINKWATCH_SOURCE": source.name,
    }
    if source.render == "browser":
        # One Chromium, one context, a few tabs (crawler.browser.Renderer); every tab is a renderer
        # process, so 8 at most.
        values["LINKWATCH_BROWSER_TABS"] = max(1, min(source.concurrency, 8))
    return values


def alert_settings(config: Config) -> dict[str, Any]:
    """What the store pipeline needs to enqueue alerts: the threshold and the targets' keys and labels
    (never a webhook URL or SMTP password: those stay with the sender thread)."""
    from linkwatch.alerts.targets import alert_settings as settings_of

    alerts = settings_of(config)
    return {"LINKWATCH_ALERT_SCORE": alerts.score,
            "LINKWATCH_ALERT_TARGETS": [[t.key, t.label] for t in alerts.targets]}


def crawl_settings(
    source: Source,
    *,
    config: Config,
    database_url: str,
    run_id: int,
    journal_dir: Path | None = None,
    progress: bool = True,
    distributed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The settings for one source's crawl: project defaults overridden by the source and the config.

    `journal_dir` is the run's crawl journal (linkwatch.db.journal): its frontier and its pages.
    `distributed` (crawler.frontier.scrapy_settings) puts the crawl on a shared Redis frontier (the
    queue and seen-set live in Redis; the journal then holds only the pages).
    """
    import sys

    from linkwatch.config import ConfigError

    values = {k: v for k, v in globals().items() if k.isupper()}
    values.update(source_settings(source))
    values.update(
        {
            "USER_AGENT": config.user_agent,
            "LINKWATCH_DATABASE_URL": database_url,
            "LINKWATCH_DATA_DIR": str(config.data_dir),
            "LINKWATCH_RUN_ID": run_id,
            "LINKWATCH_LEXICON": str(config.lexicon),
            "LINKWATCH_STORE_CLOSE_SECONDS": config.store_wait_seconds,
            "LINKWATCH_JOURNAL_DIR": str(journal_dir) if journal_dir is not None else None,
            "LINKWATCH_SOURCES": str(config.sources),
            "LINKWATCH_PROGRESS": progress and sys.stderr is not None,
        }
    )
    values.update(alert_settings(config))
    if source.render == "browser":
        chromium = config.chromium_path()
        if not chromium:
            raise ConfigError(
                "Chromium not found: install it (`apt-get install chromium`) or set LINKWATCH_CHROMIUM"
            )
        values["LINKWATCH_CHROMIUM"] = chromium
    if not values["LINKWATCH_PROGRESS"]:
        values["EXTENSIONS"] = {k: v for k, v in EXTENSIONS.items() if not k.endswith(".Progress")}
    if distributed:
        values.update(distributed)
        values["EXTENSIONS"] = {
            **values["EXTENSIONS"], "crawler.extensions.worker.DistributedWorker": 510,
        }
    return values
