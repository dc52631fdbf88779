"""`linkwatch crawl` as a person meets it: a site that is down, log options, progress, the user agent."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg

from tests.utils.crawl import LINKWATCH, UA, run_linkwatch, runs


def test_a_site_that_is_down_is_one_sentence_exit_1_and_a_failed_run(lw_env, unused_tcp_port) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/"
    result = run_linkwatch(["crawl", "--url", url], lw_env)
    assert result.returncode == 1, result.stderr
    assert f"Error: could not reach {url} (connection refused); nothing was fetched" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) < 10  # was ~60 lines of Scrapy traceback
    (run,) = runs(lw_env["LINKWATCH_DATABASE_URL"])
    assert run["status"] == "failed"  # `sources status` flags it; not "finished · 0 pages"
    assert "failed (run" in result.stdout


def test_quiet_and_log_file(lw_env, unused_tcp_port, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}/"
    log = tmp_path / "crawl.log"
    result = run_linkwatch(["crawl", "--url", url, "-q", "--log-file", str(log)], lw_env)
    assert result.returncode == 1
    assert "Gave up retrying" in log.read_text(encoding="utf-8")  # Scrapy's log went to the file
    assert "Gave up retrying" not in result.stderr
    assert "pages/s" not in result.stderr  # no progress line with -q
    assert "could not reach" in result.stderr  # the outcome is still said
    verbose = run_linkwatch(["crawl", "--url", url, "--log-level", "info"], lw_env)
    assert "[scrapy.core.engine] INFO" in verbose.stderr
    assert run_linkwatch(["crawl", "--url", url, "--log-level", "loud"], lw_env).returncode == 2


def test_progress_shows_the_budget_and_counts_in_words(forum, lw_env) -> None:
    result = run_linkwatch(["crawl", "--url", forum.url + "/board/1?page=1", "--max-pages", "1"], lw_env)
    assert result.returncode == 0, result.stderr
    assert "[127.0.0.1] 1/1 pages · " in result.stderr
    assert " · 1 page · " in result.stdout  # the summary: not "1 pages"
    assert " · 0 errors · " in result.stdout
    # the capture is in this database's own directory of the data directory
    db = lw_env["LINKWATCH_DATABASE_URL"]
    (run,) = runs(db)
    with psycopg.connect(db) as conn:
        (warc_file,) = {r[0] for r in conn.execute("SELECT warc_file FROM pages")}
        name = conn.execute("SELECT current_database()").fetchone()[0]
    assert re.fullmatch(rf"warc/{name}-\d+-\d+/{run['id']}\.warc\.gz", warc_file), warc_file


def test_an_unset_user_agent_is_warned_about(forum, lw_env) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LINKWATCH_USER_AGENT"}
    argv = [LINKWATCH, "crawl", "--url", forum.url + "/board/1?page=1", "--max-pages", "1"]
    unset = subprocess.run(argv, env={**env, **lw_env}, capture_output=True, text=True, timeout=240,
                           check=False)
    assert unset.returncode == 0, unset.stderr
    assert "warning: LINKWATCH_USER_AGENT is not set" in unset.stderr
    named = subprocess.run(argv, env={**env, **lw_env, "LINKWATCH_USER_AGENT": UA}, capture_output=True,
                           text=True, timeout=240, check=False)
    assert "LINKWATCH_USER_AGENT" not in named.stderr
