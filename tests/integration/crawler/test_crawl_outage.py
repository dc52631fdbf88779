"""PostgreSQL restarting or going away under a real crawl: the source stays held, the run records its
real figures, and a crawl that lost nothing exits 0."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.errors import EXIT_LOCKED
from tests.utils.board import Board
from tests.utils.crawl import LINKWATCH, UA

pytestmark = pytest.mark.slow


def write_sources(tmp_path: Path, url: str, *, delay: float, concurrency: int) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f"""
[[source]]
name = "held"
start_urls = ["{url}/"]
delay = {delay}
concurrency = {concurrency}
max_depth = 10
""", encoding="utf-8")
    return path


def env_for(url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LINKWATCH_DATABASE_URL": url, "LINKWATCH_DATA_DIR": str(tmp_path / "data"),
            "LINKWATCH_USER_AGENT": UA, "LINKWATCH_STORE_WAIT_SECONDS": "2"}


def test_the_source_stays_held_across_a_server_restart(throwaway_server, tmp_path: Path) -> None:
    url = throwaway_server.url
    with Board(boards=4, threads=4, pages=2) as forum:  # 37 pages at 3 a second: long enough
        path = write_sources(tmp_path, forum.url, delay=0.3, concurrency=1)
        first = subprocess.Popen([LINKWATCH, "crawl", "held", "--sources", str(path)],
                                 env=env_for(url, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        forum.wait_for_requests(5)
        throwaway_server.stop()  # the advisory lock dies with the crawl's session
        throwaway_server.start()
        second = subprocess.run([LINKWATCH, "crawl", "held", "--sources", str(path)],
                                env=env_for(url, tmp_path), capture_output=True, text=True, timeout=120)
        assert second.returncode == EXIT_LOCKED, second.stderr
        assert "another crawl of source 'held' is running" in second.stderr
        _out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
        assert forum.page_requests() == len(forum.page_paths())  # nothing fetched twice
        expected = forum.codes()
    with psycopg.connect(url) as conn:
        assert {r[0] for r in conn.execute("SELECT code FROM links")} == expected
        (run,) = conn.execute("SELECT status, pages FROM crawl_runs").fetchall()
    assert run == ("finished", 37)


def test_a_server_gone_at_the_end_keeps_pages_and_figures_for_replay(throwaway_server, tmp_path) -> None:
    url = throwaway_server.url
    with Board(boards=3, threads=3, pages=2) as forum:  # 22 pages
        path = write_sources(tmp_path, forum.url, delay=0.0, concurrency=2)
        proc = subprocess.Popen([LINKWATCH, "crawl", "held", "--sources", str(path)],
                                env=env_for(url, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        forum.wait_for_requests(len(forum.page_paths()))
        throwaway_server.stop()  # gone before the crawl stores its last batch and its figures
        out, err = proc.communicate(timeout=300)
        expected = forum.codes()
    assert proc.returncode == 0, err  # nothing was lost: it is all in the journal
    assert "Traceback" not in err
    assert "figures of run 1 wait in the crawl journal" in out
    throwaway_server.start()
    replayed = CliRunner().invoke(main, ["--database-url", url, "db", "replay"],
                                  env={"LINKWATCH_DATA_DIR": str(tmp_path / "data")})
    assert replayed.exit_code == 0, replayed.output
    with psycopg.connect(url) as conn:
        assert {r[0] for r in conn.execute("SELECT code FROM links")} == expected
        assert conn.execute("SELECT status, pages FROM crawl_runs").fetchone() == ("finished", 22)
    status = CliRunner().invoke(main, ["--database-url", url, "sources", "status", "--json"],
                                env={"LINKWATCH_DATA_DIR": str(tmp_path / "data"),
                                     "LINKWATCH_SOURCES": str(tmp_path / "none.toml")})
    assert '"flags": []' in status.output  # no false "interrupted, zero pages" alarm
