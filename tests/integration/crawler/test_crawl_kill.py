"""Nothing found is lost: a crawl killed with SIGKILL (as the OOM killer or a reboot would) at several
moments, then resumed, ends with every link of the forum, nothing twice, and few pages fetched again."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.utils.board import Board
from tests.utils.crawl import LINKWATCH, UA, codes, runs

pytestmark = pytest.mark.slow


def sources(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f"""
[[source]]
name = "big"
start_urls = ["{url}/"]
delay = 0.0
concurrency = 4
max_depth = 10
max_pages = 2000
""", encoding="utf-8")
    return path


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([LINKWATCH, *args], env={**os.environ, **env, "LINKWATCH_USER_AGENT": UA},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_after(proc: subprocess.Popen, forum: Board, served: int) -> None:
    """SIGKILL by PID once the forum has served `served` pages in all: no flush, no goodbye."""
    forum.wait_for_requests(served)
    assert proc.poll() is None, f"the crawl ended before it could be killed: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def totals(db: str) -> tuple[int, int, int, int]:
    with psycopg.connect(db) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM pages), (SELECT count(DISTINCT url) FROM pages), "
            "(SELECT count(*) FROM sightings), (SELECT coalesce(sum(sightings), 0) FROM links)"
        ).fetchone()


def test_killed_twice_then_resumed_loses_nothing_and_fetches_little_again(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with Board(boards=12, threads=12, pages=2) as forum:  # 301 pages, 589 distinct links
        path = sources(tmp_path, forum.url)
        kill_after(start(["crawl", "big", "--sources", str(path)], lw_env), forum, 60)
        kill_after(start(["crawl", "big", "--sources", str(path), "--resume"], lw_env), forum, 180)
        final = subprocess.run([LINKWATCH, "crawl", "big", "--sources", str(path), "--resume"],
                               env={**os.environ, **lw_env, "LINKWATCH_USER_AGENT": UA},
                               capture_output=True, text=True, timeout=300, check=False)
        assert final.returncode == 0, final.stderr
        fetched = forum.page_requests()
        distinct = len(forum.page_paths())
        assert codes(db) == forum.codes()  # every link any fetched page held
    pages, urls, sightings, counted = totals(db)
    assert pages == urls == distinct  # each page version once, however often it was fetched
    assert sightings == counted == 2 * (distinct - 1 - 12) + 12 + (distinct - 1 - 12)  # nothing twice
    assert fetched <= 1.1 * distinct, f"{fetched} requests for {distinct} pages"
    statuses = [r["status"] for r in runs(db)]
    assert statuses == ["interrupted", "interrupted", "finished"]
    killed = runs(db)[:2]
    # The killed runs' figures come from their journals (recorded when the next crawl started).
    assert all(r["pages"] > 0 for r in killed)
    assert not list((Path(lw_env["LINKWATCH_DATA_DIR"]) / "journal").rglob("*.jsonl"))


def test_a_double_ctrl_c_stops_fast_and_loses_nothing(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with Board(boards=8, threads=8, pages=2) as forum:
        path = sources(tmp_path, forum.url)
        proc = start(["crawl", "big", "--sources", str(path)], lw_env)
        forum.wait_for_requests(40)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGINT)  # "stop now": Scrapy's forced shutdown
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert "--resume" in err
        resumed = subprocess.run([LINKWATCH, "crawl", "big", "--sources", str(path), "--resume"],
                                 env={**os.environ, **lw_env, "LINKWATCH_USER_AGENT": UA},
                                 capture_output=True, text=True, timeout=300, check=False)
        assert resumed.returncode == 0, resumed.stderr
        assert codes(db) == forum.codes()
        assert forum.page_requests() <= 1.1 * len(forum.page_paths())


def test_a_crawl_process_listens_on_no_port(lw_env, tmp_path) -> None:
    """Scrapy's telnet console and remote control (/execute runs Python) stay off."""
    import psutil

    with Board(boards=3, threads=3, pages=2) as forum:
        path = tmp_path / "slow.toml"
        path.write_text(f'[[source]]\nname = "big"\nstart_urls = ["{forum.url}/"]\ndelay = 0.3\n'
                        "concurrency = 1\n", encoding="utf-8")
        proc = start(["crawl", "big", "--sources", str(path)], lw_env)
        forum.wait_for_requests(3)
        listening = [c for c in psutil.Process(proc.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        proc.kill()
        proc.communicate(timeout=60)
    assert listening == []
