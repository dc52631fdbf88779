"""`linkwatch schedule` running the real `linkwatch crawl` against the local test forum."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.utils.crawl import LINKWATCH


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung forum."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def write_sources(tmp_path: Path, name: str, url: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "{name}"\nstart_urls = ["{url}/"]\nschedule = "*/10 * * * *"\n'
        "delay = 0.0\nmax_pages = 15\nobey_robots = false\n",
        encoding="utf-8",
    )
    return path


def schedule_once(
    tmp_path: Path, env: dict[str, str], sources: Path, *extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINKWATCH, "schedule", "--once", "--sources", str(sources), "--check-cron", "off",
         "--report-cron", "off", *extra],
        env={**os.environ, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False,
    )


def rows(db: str, query: str) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.slow
def test_scheduled_real_crawl_runs_once_and_is_logged(forum: object, lw_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = write_sources(tmp_path, "tf", forum.url)
    first = schedule_once(tmp_path, lw_env, sources)
    assert first.returncode == 0, first.stderr
    [(job, outcome, code)] = rows(db, "SELECT job, outcome, exit_code FROM job_runs")
    assert (job, outcome, code) == ("crawl:tf", "ok", 0)
    [(status, trigger, pages)] = rows(db, "SELECT status, trigger, pages FROM crawl_runs")
    assert (status, trigger) == ("finished", "schedule")
    assert pages > 0
    second = schedule_once(tmp_path, lw_env, sources)
    assert second.returncode == 0, second.stderr
    assert len(rows(db, "SELECT id FROM crawl_runs")) == 1  # not due again


@pytest.mark.slow
def test_manual_crawl_holding_the_source_makes_the_scheduled_one_skip(
    forum: object, lw_env: dict[str, str], tmp_path: Path
) -> None:
    from linkwatch.db import runs
    from linkwatch.sources import load_sources

    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = write_sources(tmp_path, "tf", forum.url)
    with psycopg.connect(db, autocommit=True) as holder:
        source_id = runs.upsert_source(holder, load_sources(sources)[0])
        runs.lock_source(holder, source_id, "tf")  # what a running `linkwatch crawl tf` holds
        result = schedule_once(tmp_path, lw_env, sources)
    assert result.returncode == 0, result.stderr
    [(outcome, detail)] = rows(db, "SELECT outcome, detail FROM job_runs")
    assert outcome == "skipped"
    assert "another crawl of source 'tf' is running" in detail
    assert rows(db, "SELECT id FROM crawl_runs") == []


@pytest.mark.slow
def test_hung_real_crawl_is_killed_and_marked_failed(silent_server: str, lw_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = write_sources(tmp_path, "hung", silent_server)
    result = schedule_once(tmp_path, lw_env, sources, "--timeout", "15", "--kill-grace", "5")
    assert result.returncode == 1
    assert "crawl:hung (timeout)" in result.stderr
    [(outcome,)] = rows(db, "SELECT outcome FROM job_runs")
    assert outcome == "timeout"
    [(status, finished)] = rows(db, "SELECT status, finished_at FROM crawl_runs")
    assert status == "failed"
    assert finished is not None


@pytest.mark.slow
def test_a_site_that_is_down_is_recorded_failed(lw_env: dict[str, str], tmp_path: Path,
                                                unused_tcp_port: int) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    sources = write_sources(tmp_path, "down", f"http://127.0.0.1:{unused_tcp_port}")
    result = schedule_once(tmp_path, lw_env, sources)
    assert result.returncode == 1, result.stderr
    assert "crawl:down (failed)" in result.stderr
    [(outcome, code, detail)] = rows(db, "SELECT outcome, exit_code, detail FROM job_runs")
    assert (outcome, code) == ("failed", 1)  # was "ok", exit 0
    assert "could not reach" in detail
    assert "(connection refused)" in detail
    [(status,)] = rows(db, "SELECT status FROM crawl_runs")
    assert status == "failed"
