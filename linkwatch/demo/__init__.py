"""The demo: serves the bundled synthetic forum, crawls it, confirms what it found, writes a referral."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from linkwatch.config import Config
from linkwatch.sources import Source

DEMO_REVIEWER = "linkwatch-demo"
DEMO_DATABASE = "linkwatch_demo"


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


def practice_sources(base_url: str) -> str:
    """A sources file for the demo forum, as an analyst would write it (the README walks through it)."""
    return f"""[[source]]
name = "demo-board"
start_urls = ["{base_url}/"]
deny = ["/live/"]              # regexes of links never followed
delay = 0.5                    # seconds between requests to the site
schedule = "0 */6 * * *"       # for `linkwatch schedule`: every six hours

[[source]]
name = "demo-live"             # a board drawn by JavaScript
start_urls = ["{base_url}/live/board.html"]
allow = ["/live/"]             # only links matching these are followed
render = "browser"             # rendered in Chromium
wait_for = "body.loaded"       # CSS selector the board sets once its posts are drawn
max_depth = 1
max_pages = 5
"""


@dataclass
class DemoResult:
    """What the demo did: the crawls, the sightings they stored, the media requests the forum saw,
    and the sample referral's files."""

    base_url: str
    results: list
    sightings: list[tuple]
    media_requests: int
    files: list[Path]


def run_demo(config: Config, database_url: str, out: Path, *, port: int = 0,
             say: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Serves the demo forum on 127.0.0.1, crawls it into `database_url`, confirms what was found as
    reviewer linkwatch-demo and writes this week's referral files to `out`.

    `config.data_dir` should be the demo's own (captures, journals and job state stay apart from real
    work). Raises DemoError when a crawl does not finish.
    """
    from crawler.runner import run_crawls
    from linkwatch.db import connect
    from linkwatch.db.links import sightings_in_runs
    from linkwatch.db.migrate import migrate
    from linkwatch.demo.server import DemoServer

    browser = chromium_available(config)
    with DemoServer(port) as server:
        say(f"demo forum: {server.url}/")
        if not browser:
            say("Chromium not found (apt-get install chromium, or set LINKWATCH_CHROMIUM): crawling the "
                "static board only; the JavaScript board needs a browser.")
        migrate(database_url)
        # full: the forum is on a new port each run, so the pages an earlier run recorded are at another
        # address, which an incremental crawl would ask for again
        results = run_crawls(demo_sources(server.url, browser=browser), database_url=database_url,
                             config=config, trigger="demo", full=True)
        media = server.media_requests
    run_ids = [r.run_id for r in results]
    with connect(database_url) as conn:
        sightings = sightings_in_runs(conn, run_ids)
    if any(r.status != "finished" for r in results):
        return DemoResult(server.url, results, sightings, media, [])
    files = write_sample_referral(database_url, run_ids, out, config)
    return DemoResult(server.url, results, sightings, media, files)


def write_sample_referral(database_url: str, run_ids: list[int], out: Path, config: Config) -> list[Path]:
    """Confirms the links the demo runs found and writes this week's referral files; returns their paths."""
    from linkwatch.db import connect
    from linkwatch.db.links import links_in_runs
    from linkwatch.jobs import report, review

    tz = config.zone
    with connect(database_url, autocommit=True) as conn:
        for link_id in links_in_runs(conn, run_ids):
            review.decide(conn, link_id, "confirm", DEMO_REVIEWER, category="other",
                          note="confirmed automatically by `linkwatch demo` (synthetic data)")
        year, week, _ = datetime.now(tz).isocalendar()
        # this week, still running: the demo shows what a referral looks like right away
        result = report.weekly(conn, report.make_week(year, week, tz), out, url=database_url, tz=tz,
                               who=DEMO_REVIEWER, allow_partial=True)
    names = [*result.files, f"linkwatch-referral-{result.week.period}-manifest.json"]
    return [out / name for name in names]
