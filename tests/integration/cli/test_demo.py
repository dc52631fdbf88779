"""`linkwatch demo`: serves the bundled forum, crawls it (static and JavaScript boards), prints the links."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.utils.crawl import LINKWATCH

STATIC_CODES = {
    "DemoPlainInvite01", "DemoDisguised02", "demoVoice03", "demoRedirect04", "sDemo005", "DemoWide06xyz",
    "DemoSplit07", "DemoWhatsApp08abcdefghi",
}  # fmt: skip
LIVE_CODES = {"DemoScript10", "gDemo011", "demoScript12"}


def run_demo(env: dict[str, str], tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """`linkwatch [--database-url URL] demo --out …`: `extra` are the group's options."""
    return subprocess.run(
        [LINKWATCH, *extra, "demo", "--out", str(tmp_path / "out")],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip


def stored_codes(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT code FROM links")}


@pytest.mark.browser
def test_demo_crawls_both_boards_and_prints_the_links(lw_env, tmp_path, chromium_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    result = run_demo({**lw_env, "LINKWATCH_CHROMIUM": chromium_path}, tmp_path, "--database-url", db)
    assert result.returncode == 0, result.stderr
    for code in STATIC_CODES | LIVE_CODES:
        assert code in result.stdout
    assert stored_codes(lw_env["LINKWATCH_DATABASE_URL"]) == STATIC_CODES | LIVE_CODES
    assert "DemoNeverFetched99" not in result.stdout  # behind robots.txt
    assert "demo-static: finished" in result.stdout
    assert "demo-live: finished" in result.stdout
    assert "media requests received by the demo forum: 0" in result.stdout


def test_demo_without_chromium_says_so_and_crawls_the_static_board(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    no_chromium = {**lw_env, "LINKWATCH_CHROMIUM": str(tmp_path / "no-chromium")}
    result = run_demo(no_chromium, tmp_path, "--database-url", db)
    assert result.returncode == 0, result.stderr
    assert "Chromium not found" in result.stderr
    assert stored_codes(lw_env["LINKWATCH_DATABASE_URL"]) == STATIC_CODES
    assert "demo-live" not in result.stdout
    assert "Traceback" not in result.stderr


def test_demo_run_again_reads_the_forum_it_serves_now(lw_env, tmp_path) -> None:
    # each run serves the forum on a new port: the pages an earlier run recorded are at another address,
    # and an incremental crawl would ask for them there (connection refused, counted as errors)
    db = lw_env["LINKWATCH_DATABASE_URL"]
    no_chromium = {**lw_env, "LINKWATCH_CHROMIUM": str(tmp_path / "no-chromium")}
    first = run_demo(no_chromium, tmp_path, "--database-url", db)
    assert first.returncode == 0, first.stderr
    again = run_demo(no_chromium, tmp_path, "--database-url", db)
    assert again.returncode == 0, again.stderr
    (finished,) = [line for line in again.stdout.splitlines() if line.startswith("demo-static: finished")]
    assert " 0 errors " in finished, finished
    assert " 8 pages " in finished, finished
    assert "Connection refused" not in again.stderr
    assert stored_codes(db) == STATIC_CODES


def referral_codes(out: Path) -> set[str]:
    [jsonl] = out.glob("linkwatch-referral-*.jsonl")
    return {json.loads(line)["code"] for line in jsonl.read_text(encoding="utf-8").splitlines()}


@pytest.mark.browser
def test_demo_ends_in_a_referral_of_every_link_found(lw_env, tmp_path, chromium_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    result = run_demo({**lw_env, "LINKWATCH_CHROMIUM": chromium_path}, tmp_path, "--database-url", db)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert referral_codes(out) == STATIC_CODES | LIVE_CODES
    assert {p.suffix for p in out.iterdir()} == {".csv", ".xlsx", ".jsonl", ".json"}
    assert "sample referral for the regulator" in result.stdout
    with psycopg.connect(db) as conn:
        reviewers = {r[0] for r in conn.execute("SELECT DISTINCT reviewer FROM reviews")}
    assert reviewers == {"linkwatch-demo"}
    again = run_demo({**lw_env, "LINKWATCH_CHROMIUM": chromium_path}, tmp_path, "--database-url", db)
    assert again.returncode == 0, again.stderr
    assert referral_codes(out) == STATIC_CODES | LIVE_CODES  # same week: same referral, rewritten
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM referrals").fetchone()[0] == 1


def test_demo_on_a_fresh_machine_uses_its_own_embedded_database(tmp_path) -> None:
    """No database configured: the demo starts the embedded server and keeps to `linkwatch_demo`."""
    env = {k: v for k, v in os.environ.items() if k != "LINKWATCH_DATABASE_URL"}
    env |= {"LINKWATCH_DATA_DIR": str(tmp_path / "data"), "LINKWATCH_CHROMIUM": str(tmp_path / "none"),
            "COLUMNS": "200"}
    result = subprocess.run(
        [LINKWATCH, "demo", "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "starting its own PostgreSQL" in result.stderr
    assert referral_codes(tmp_path / "out") == STATIC_CODES
    assert (tmp_path / "data" / "demo" / "warc").is_dir()  # captures kept apart from real crawls
    # the line it ends with reaches the demo's data, as printed (the embedded server starts again)
    (hint,) = [line for line in result.stdout.splitlines() if line.startswith("explore the demo's data: ")]
    words = shlex.split(hint.removeprefix("explore the demo's data: "))
    assignments = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    command = [w for w in words if w not in {f"{k}={v}" for k, v in assignments.items()}]
    assert command[0] == LINKWATCH
    listed = subprocess.run([*command, "--format", "csv", "--limit", "0"], env={**env, **assignments},
                            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert {row.split(",")[3] for row in listed.stdout.splitlines()[1:]} == STATIC_CODES


def test_demo_forum_serves_the_forum_to_practise_on(lw_env, tmp_path) -> None:
    """`demo --forum` serves the forum and prints a sources file that an analyst can check and crawl."""
    env = {**os.environ, **lw_env, "COLUMNS": "200"}
    forum = subprocess.Popen([LINKWATCH, "demo", "--forum"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert forum.stderr is not None
        assert forum.stdout is not None
        url = forum.stderr.readline().split()[2]  # "demo forum: URL  (Ctrl-C stops it)"
        assert url.startswith("http://127.0.0.1:")
        lines = []
        while len(lines) < 200:  # the printed file ends with the browser source's page budget
            lines.append(forum.stdout.readline())
            if lines[-1] == "max_pages = 5\n":
                break
        sources = tmp_path / "sources.toml"
        sources.write_text("".join(lines), encoding="utf-8")
        check = subprocess.run([LINKWATCH, "sources", "check", str(sources)], env=env, capture_output=True,
                               text=True, timeout=60, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        crawl = subprocess.run([LINKWATCH, "crawl", "demo-board", "--sources", str(sources)], env=env,
                               capture_output=True, text=True, timeout=300, check=False)
        assert crawl.returncode == 0, crawl.stderr
        assert stored_codes(lw_env["LINKWATCH_DATABASE_URL"]) == STATIC_CODES
    finally:
        forum.send_signal(signal.SIGINT)
        try:
            _out, err = forum.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            forum.kill()  # not left running into the next tests
            forum.communicate()
            raise
    assert forum.returncode == 0, err
    assert "demo forum stopped" in err
    assert "Traceback" not in err
