"""Everything linkwatch writes (captures, journals, exports, logs) is its owner's alone: files 0600 in
0700 directories, and no directory that existed before is opened up."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.utils.board import Board
from tests.utils.crawl import LINKWATCH, UA

pytestmark = pytest.mark.slow


def modes(root: Path) -> list[tuple[str, str]]:
    """(path, what is wrong) for every file that others (or the group) may read or enter."""
    wrong = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            continue
        if (path.is_dir() and mode & 0o077) or (path.is_file() and mode & 0o077):
            wrong.append((str(path), oct(mode)))
    return wrong


def test_crawl_report_and_scheduler_outputs_are_private(lw_env, seed, tmp_path) -> None:
    parent = tmp_path / "shared-parent"
    parent.mkdir(mode=0o755)
    parent.chmod(0o755)  # a parent the user chose to keep open stays as it was
    data_dir = parent / "data"
    out_dir = parent / "referral"
    env = {**os.environ, **lw_env, "LINKWATCH_DATA_DIR": str(data_dir), "LINKWATCH_USER_AGENT": UA}
    with Board(boards=2, threads=2, pages=1) as forum:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[[source]]\nname = "b"\nstart_urls = ["{forum.url}/"]\ndelay = 0.0\n'
                           'schedule = "* * * * *"\n', encoding="utf-8")
        crawled = subprocess.run([LINKWATCH, "crawl", "b", "--sources", str(sources)], env=env,
                                 capture_output=True, text=True, timeout=120, check=False)
        assert crawled.returncode == 0, crawled.stderr
        link = seed.link("SynthPrivate1", status="confirmed", first=datetime(2026, 11, 2, tzinfo=UTC))
        assert link
        weekly = ["report", "weekly", "--week", "2026-W45", "--out", str(out_dir)]
        reported = subprocess.run([LINKWATCH, *weekly], env=env, capture_output=True, text=True, timeout=120,
                                  check=False)
        assert reported.returncode == 0, reported.stderr
        once = ["schedule", "--once", "--sources", str(sources), "--check-cron=off", "--report-cron=off"]
        scheduled = subprocess.run([LINKWATCH, *once], env=env, capture_output=True, text=True, timeout=300,
                                   check=False)
        assert scheduled.returncode == 0, scheduled.stderr
    assert list((data_dir / "warc").rglob("*.warc.gz")), "the crawl wrote its evidence"
    assert list((data_dir / "logs").rglob("*.log")), "the scheduler kept its job's output"
    assert list(out_dir.glob("linkwatch-referral-*")), "the report wrote its files"
    assert modes(data_dir) == []
    assert modes(out_dir) == []
    assert stat.S_IMODE(parent.stat().st_mode) == 0o755
