"""`linkwatch demo`: serves the bundled forum, crawls it (static and JavaScript boards), prints the links."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

LINKWATCH = str(Path(sys.executable).parent / "linkwatch")
STATIC_CODES = {
    "DemoPlainInvite01", "DemoDisguised02", "demoVoice03", "demoRedirect04", "sDemo005", "DemoWide06xyz",
    "DemoSplit07", "DemoWhatsApp08abcdefghi",
}  # fmt: skip
LIVE_CODES = {"DemoScript10", "gDemo011", "demoScript12"}


def run_demo(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINKWATCH, "demo", "--out", str(tmp_path / "out")],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip


def stored_codes(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT code FROM links")}


@pytest.mark.browser
def test_demo_crawls_both_boards_and_prints_the_links(lw_env, tmp_path, chromium_path) -> None:
    result = run_demo({**lw_env, "LINKWATCH_CHROMIUM": chromium_path}, tmp_path)
    assert result.returncode == 0, result.stderr
    for code in STATIC_CODES | LIVE_CODES:
        assert code in result.stdout
    assert stored_codes(lw_env["LINKWATCH_DATABASE_URL"]) == STATIC_CODES | LIVE_CODES
    assert "DemoNeverFetched99" not in result.stdout  # behind robots.txt
    assert "demo-static: finished" in result.stdout
    assert "demo-live: finished" in result.stdout
    assert "media requests received by the demo forum: 0" in result.stdout


def test_demo_without_chromium_says_so_and_crawls_the_static_board(lw_env, tmp_path) -> None:
    result = run_demo({**lw_env, "LINKWATCH_CHROMIUM": str(tmp_path / "no-chromium")}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Chromium not found" in result.stderr
    assert stored_codes(lw_env["LINKWATCH_DATABASE_URL"]) == STATIC_CODES
    assert "demo-live" not in result.stdout
    assert "Traceback" not in result.stderr
