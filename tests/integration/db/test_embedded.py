"""The embedded default: first use says where the data lives, later runs reuse it, the last exit stops it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from linkwatch.db.embedded import pgdata_dir, server_pid

REPO = Path(__file__).resolve().parents[3]
LINKWATCH = str(Path(sys.executable).parent / "linkwatch")

# Starts the embedded server, prints its URL and pid, then holds it until stdin closes.
HOLDER = """
import sys
from pathlib import Path
from linkwatch.db.embedded import server_pid, start
url = start(Path(sys.argv[1]))
print(url, server_pid(Path(sys.argv[1])), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def root() -> Iterator[Path]:
    """A directory outside pytest's basetemp: concurrent pytest sessions reset that to mode 0700,
    which would lock out the unprivileged user the embedded server runs as under root."""
    path = Path(tempfile.mkdtemp(prefix="lw-embedded-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def env_without_url(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKWATCH_")}
    env["LINKWATCH_DATA_DIR"] = str(data_dir)
    return env


def holder(data_dir: Path) -> tuple[subprocess.Popen, str, int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)], cwd=REPO, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_without_url(data_dir),
    )
    line = proc.stdout.readline().split()
    assert len(line) == 2, proc.stderr.read()
    return proc, line[0], int(line[1]), ""


def release(proc: subprocess.Popen) -> str:
    _, err = proc.communicate(input="", timeout=60)
    assert proc.returncode == 0, err
    return err


def wait_stopped(data_dir: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while server_pid(data_dir) is not None:
        assert time.monotonic() < deadline, "embedded server still running"
        time.sleep(0.1)


def test_start_reuse_and_stop(root: Path) -> None:
    data_dir = root / "lwdata"
    first, url, pid, _ = holder(data_dir)
    second, url2, pid2, _ = holder(data_dir)
    assert (url2, pid2) == (url, pid)  # the second process reuses the running server
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "linkwatch"
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (1)")
        conn.commit()
    first_err = release(first)
    assert f"data lives in {pgdata_dir(data_dir)}" in first_err
    assert server_pid(data_dir) == pid  # still in use by the second process
    second_err = release(second)
    assert "data lives in" not in second_err  # said once, on first use
    wait_stopped(data_dir)

    third, url3, pid3, _ = holder(data_dir)  # the next run starts it again on the same data
    assert pid3 != pid
    with psycopg.connect(url3) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone()[0] == 1
    release(third)
    wait_stopped(data_dir)


def test_db_migrate_on_a_fresh_machine_needs_no_url(root: Path) -> None:
    data_dir = root / "fresh"
    run = subprocess.run(
        [LINKWATCH, "db", "migrate"], cwd=REPO, capture_output=True, text=True,
        env=env_without_url(data_dir), timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "applied 0001_initial" in run.stdout
    assert f"data lives in {pgdata_dir(data_dir)}" in run.stderr
    assert "Traceback" not in run.stderr
    wait_stopped(data_dir)
    status = subprocess.run(
        [LINKWATCH, "db", "status"], cwd=REPO, capture_output=True, text=True,
        env=env_without_url(data_dir), timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert "0 pending" in status.stdout
    assert "data lives in" not in status.stderr
    wait_stopped(data_dir)


def test_with_a_database_url_nothing_is_started(db: str, root: Path) -> None:
    data_dir = root / "unused"
    env = env_without_url(data_dir) | {"LINKWATCH_DATABASE_URL": db}
    run = subprocess.run([LINKWATCH, "db", "status"], cwd=REPO, capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert not pgdata_dir(data_dir).exists()
