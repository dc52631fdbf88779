"""`sources status`: last run per source, flags, and runs left 'running' by a dead process closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.db import health


@pytest.fixture(autouse=True)
def no_default_sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LINKWATCH_SOURCES", str(tmp_path / "absent.toml"))


def add_source(url: str, name: str, enabled: bool = True) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("INSERT INTO sources (name, enabled) VALUES (%s, %s) RETURNING id",
                            (name, enabled)).fetchone()[0]


def add_run(url: str, source_id: int, hours_ago: float, **cols: object) -> int:
    cols = {"source_id": source_id, "started_at": datetime.now(UTC) - timedelta(hours=hours_ago),
            "status": "finished", **cols}
    names = ", ".join(cols)
    marks = ", ".join(f"%({k})s" for k in cols)
    with psycopg.connect(url) as conn:
        return conn.execute(f"INSERT INTO crawl_runs ({names}) VALUES ({marks}) RETURNING id",
                            cols).fetchone()[0]


def run_status(url: str, run_id: int) -> tuple[str, object]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, finished_at FROM crawl_runs WHERE id = %s",
                            (run_id,)).fetchone()


def test_flags_zero_pages_dried_up_links_errors_and_never_run(db: str) -> None:
    healthy = add_source(db, "healthy")
    add_run(db, healthy, 30, pages=50, links=12)
    add_run(db, healthy, 1, pages=48, links=10, new_links=2, media_refused=3)
    blocked = add_source(db, "blocked")
    add_run(db, blocked, 30, pages=20, links=5)
    add_run(db, blocked, 1, pages=0, links=0, errors=2)
    changed = add_source(db, "changed")
    add_run(db, changed, 30, pages=20, links=5)
    add_run(db, changed, 1, pages=20, links=0)
    quiet = add_source(db, "quiet")  # never had links: zero links is not a change
    add_run(db, quiet, 1, pages=20, links=0)
    noisy = add_source(db, "noisy")
    add_run(db, noisy, 1, pages=100, links=3, errors=25)
    add_source(db, "fresh")
    add_source(db, "disabled", enabled=False)
    with psycopg.connect(db) as conn:
        rows = {h.name: h for h in health.source_health(conn)}
    assert rows["healthy"].flags == []
    assert rows["healthy"].new_links == 2
    assert rows["healthy"].media_refused == 3
    assert rows["blocked"].flags == ["zero pages", "zero links (had 5)"]
    assert rows["changed"].flags == ["zero links (had 5)"]
    assert rows["quiet"].flags == []
    assert rows["noisy"].flags == ["25 errors"]
    assert rows["fresh"].flags == ["never run"]
    assert rows["disabled"].flags == []


def test_run_of_a_dead_process_is_marked_interrupted_live_one_kept(db: str) -> None:
    src = add_source(db, "forum")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child.kill()
    child.wait(timeout=10)
    gone = add_run(db, src, 2, status="running", host=health.hostname(), pid=child.pid)
    other_host = add_source(db, "elsewhere")
    remote = add_run(db, other_host, 1, status="running", host="some-other-host", pid=child.pid)
    alive_src = add_source(db, "alive")
    alive = add_run(db, alive_src, 0.001, status="running", host=health.hostname(), pid=os.getpid())
    result = CliRunner().invoke(main, ["--database-url", db, "sources", "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["forum"]["status"] == "interrupted"
    assert rows["forum"]["flags"] == ["interrupted", "zero pages"]
    assert run_status(db, gone)[0] == "interrupted"
    assert run_status(db, gone)[1] is not None
    assert run_status(db, remote)[0] == "running"  # another host's pid cannot be judged here
    assert run_status(db, alive)[0] == "running"


def test_cli_table_names_and_errors(lw_env: dict[str, str]) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    src = add_source(db, "board")
    add_run(db, src, 1, pages=0, links=0)
    runner = CliRunner()
    table = runner.invoke(main, ["sources", "status"])
    assert table.exit_code == 0, table.output
    assert "board" in table.stdout
    assert "zero pages" in table.stdout
    flagged = runner.invoke(main, ["sources", "status", "--fail-on-flags"])
    assert flagged.exit_code == 3
    missing = runner.invoke(main, ["sources", "status", "nosuch"])
    assert missing.exit_code == 1
    assert "no source named 'nosuch'" in missing.output
    assert "Traceback" not in missing.output


def test_sources_file_adds_sources_that_never_ran(db: str, tmp_path: Path) -> None:
    src = add_source(db, "ran")
    add_run(db, src, 1, pages=5, links=1)
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "ran"\nstart_urls = ["http://127.0.0.1:9/"]\n'
                    '[[source]]\nname = "newforum"\nstart_urls = ["http://127.0.0.1:9/"]\n'
                    '[[source]]\nname = "paused"\nstart_urls = ["http://127.0.0.1:9/"]\nenabled = false\n')
    args = ["--database-url", db, "sources", "status", "--json", "--sources", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r["flags"] for r in map(json.loads, result.stdout.splitlines())}
    assert rows == {"newforum": ["never run"], "paused": [], "ran": []}
