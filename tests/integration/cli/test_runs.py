"""`linkwatch runs`: the crawl history, one run's stats, the scheduler's job runs."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main


@pytest.fixture
def history(lw_env: dict[str, str]) -> dict[str, int]:
    """Three crawl runs of two sources and two job runs (synthetic)."""
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"], autocommit=True) as conn:
        a = conn.execute("INSERT INTO sources (name) VALUES ('board-a') RETURNING id").fetchone()[0]
        b = conn.execute("INSERT INTO sources (name) VALUES ('board-b') RETURNING id").fetchone()[0]

        def run(source: int, status: str, start: str, pages: int, stats: dict) -> int:
            return conn.execute(
                "INSERT INTO crawl_runs (source_id, status, started_at, finished_at, pages, links, "
                "new_links, errors, stats, host, pid) VALUES (%s, %s, %s, "
                "%s::timestamptz + interval '95 seconds', %s, 4, 2, 1, %s, 'host-1', 4242) RETURNING id",
                (source, status, start, start, pages, json.dumps(stats))).fetchone()[0]

        ids = {
            "a1": run(a, "finished", "2026-11-02 03:00+00", 12, {"finish_reason": "finished"}),
            "a2": run(a, "failed", "2026-11-03 03:00+00", 0, {
                "finish_reason": "finished", "downloader/exception_count": 6,
                "downloader/exception_type_count/scrapy.exceptions.DownloadConnectionRefusedError": 6}),
            "b1": run(b, "finished", "2026-11-04 03:00+00", 30, {"finish_reason": "closespider_pagecount"}),
        }
        ids["job"] = conn.execute(
            "INSERT INTO job_runs (job, scheduled_for, started_at, finished_at, outcome, exit_code, host, "
            "pid, detail) VALUES ('crawl:board-a', '2026-11-03 03:00+00', '2026-11-03 03:00+00', "
            "'2026-11-03 03:01+00', 'failed', 1, 'host-1', 77, 'Error: could not reach http://x.test/') "
            "RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO job_runs (job, started_at, finished_at, outcome, exit_code) "
                     "VALUES ('check', '2026-11-03 04:00+00', '2026-11-03 04:00:05+00', 'ok', 0)")
    return ids


def cli(*args: str, **kw: object):
    return CliRunner().invoke(main, ["runs", *args], catch_exceptions=False, **kw)


def ids(*args: str) -> list[int]:
    return [json.loads(line)["id"] for line in cli(*args, "--format", "jsonl").output.splitlines()]


def test_every_run_newest_first_with_filters(history) -> None:
    listed = [json.loads(line) for line in cli("--format", "jsonl").output.splitlines()]
    assert [r["id"] for r in listed] == [history["b1"], history["a2"], history["a1"]]
    assert listed[0]["started_at"] == "2026-11-04T12:00:00+09:00"  # the configured zone, with its offset
    assert listed[0]["seconds"] == 95.0
    assert ids("--source", "board-a") == [history["a2"], history["a1"]]
    assert ids("--status", "failed") == [history["a2"]]
    assert len(json.loads(cli("--limit", "1", "--format", "json").output)) == 1
    assert len(json.loads(cli("--all", "--format", "json").output)) == 3
    table = cli(env={"COLUMNS": "80"}).output
    assert "board-a" in table
    assert "1m 35s" in table
    assert "3 runs · times in Asia/Seoul" in table


def test_an_unknown_source_is_refused(history) -> None:
    result = CliRunner().invoke(main, ["runs", "--source", "board-c"])
    assert result.exit_code == 2
    assert "no source named 'board-c'" in result.output


def test_show_one_run_with_its_stats(history) -> None:
    text = cli("show", str(history["a2"])).output
    assert f"crawl run {history['a2']} of board-a" in text
    assert "outcome        failed" in text
    assert "started        2026-11-03 12:00 KST" in text
    assert "DownloadConnectionRefusedError" in text
    data = json.loads(cli("show", str(history["a2"]), "--format", "json").output)
    assert data["stats"]["downloader/exception_count"] == 6
    missing = CliRunner().invoke(main, ["runs", "show", "999999"])
    assert missing.exit_code == 1
    assert "there is no crawl run 999999" in missing.output


def test_job_runs_and_one_job_with_its_output(history, lw_env: dict[str, str]) -> None:
    listed = [json.loads(line) for line in cli("jobs", "--format", "jsonl").output.splitlines()]
    assert [r["job"] for r in listed] == ["check", "crawl:board-a"]
    failed = cli("jobs", "--outcome", "failed", "--format", "jsonl").output.splitlines()
    assert [json.loads(line)["id"] for line in failed] == [history["job"]]
    logs = Path(lw_env["LINKWATCH_DATA_DIR"]) / "logs" / "schedule"
    logs.mkdir(parents=True)
    log = logs / f"crawl-board-a-20261103T030000-{history['job']}.log"
    log.write_text("the whole output\n", encoding="utf-8")
    text = cli("job", str(history["job"])).output
    assert "outcome      failed" in text
    assert "exit status  1" in text
    assert str(log) in text
    assert "Error: could not reach http://x.test/" in text
