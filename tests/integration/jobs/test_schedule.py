"""`linkwatch schedule`: --once, a fast schedule, timeouts, overlap prevention across two schedulers."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from linkwatch.db import health, runs
from linkwatch.jobs import schedule as sch
from tests.utils.crawl import LINKWATCH
from tests.utils.previews import FakePreviews

# A stand-in for `linkwatch crawl NAME` that uses the real crawl bookkeeping (linkwatch.db.runs): the
# per-source advisory lock, a crawl_runs row with host and pid, then finish. It logs start/end times
# so a test can check that no two runs of a source overlapped.
FAKE_CRAWL = """
import os, sys, time
from linkwatch.sources import Source
from linkwatch.db import runs
from linkwatch.db import connect

name, seconds, log = sys.argv[1], float(sys.argv[2]), sys.argv[3]
conn = connect(os.environ["LINKWATCH_DATABASE_URL"], autocommit=True)
source_id = runs.upsert_source(conn, Source(name=name, start_urls=["http://127.0.0.1:9/"]))
try:
    runs.lock_source(conn, source_id, name)
except runs.SourceLockedError as exc:
    print(f"Error: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)  # what `linkwatch crawl` does: EXIT_LOCKED
run_id = runs.start_run(conn, source_id, trigger="schedule")
with open(log, "a") as f:
    f.write(f"start {time.time()} {os.getpid()}\\n")
time.sleep(seconds)
with open(log, "a") as f:
    f.write(f"end {time.time()} {os.getpid()}\\n")
runs.finish_run(conn, run_id, "finished", {"linkwatch/pages": 3, "linkwatch/links_found": 1})
"""


@pytest.fixture
def work(tmp_path: Path, lw_env: dict[str, str], fake: FakePreviews) -> dict[str, object]:
    script = tmp_path / "fake_crawl.py"
    script.write_text(FAKE_CRAWL)
    env = {**os.environ, **lw_env, **fake.env(), "LINKWATCH_CHECK_RATE": "0",
           "LINKWATCH_SOURCES": str(tmp_path / "absent.toml")}
    return {"dir": tmp_path, "script": script, "env": env, "db": lw_env["LINKWATCH_DATABASE_URL"],
            "log": tmp_path / "crawl.log"}


def sources_file(work: dict[str, object], schedule: str = "*/5 * * * *") -> Path:
    path = work["dir"] / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "alpha"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "{schedule}"\n'
        '[[source]]\nname = "manual"\nstart_urls = ["http://127.0.0.1:9/"]\n'
        f'[[source]]\nname = "off"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "{schedule}"\n'
        "enabled = false\n"
    )
    return path


def crawl_command(work: dict[str, object], seconds: float) -> str:
    return shlex.join([sys.executable, str(work["script"]), "{source}", str(seconds), str(work["log"])])


def schedule_argv(work: dict[str, object], *extra: str, seconds: float = 0.2) -> list[str]:
    return [LINKWATCH, "schedule", "--sources", str(sources_file(work)), "--report-cron", "off",
            "--crawl-command", crawl_command(work, seconds), *extra]


def run(argv: list[str], work: dict[str, object], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=work["env"], cwd=work["dir"], capture_output=True, text=True,
                          timeout=timeout, check=False)


def job_runs(db: str) -> list[tuple]:
    with psycopg.connect(db) as conn:
        return conn.execute(
            "SELECT job, outcome, exit_code, detail FROM job_runs ORDER BY id").fetchall()


def add_link(db: str, code: str) -> int:
    now = datetime.now(UTC)
    with psycopg.connect(db) as conn:
        return conn.execute(
            "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen) "
            "VALUES ('telegram', 'invite', %s, %s, %s, %s) RETURNING id",
            (code, f"https://t.me/+{code}", now, now)).fetchone()[0]


def intervals(log: Path) -> list[tuple[float, float]]:
    starts, ends = {}, {}
    for line in log.read_text().splitlines():
        what, at, pid = line.split()
        (starts if what == "start" else ends)[pid] = float(at)
    return sorted((starts[p], ends.get(p, float("inf"))) for p in starts)


def test_once_runs_what_is_due_then_nothing_and_coalesces_missed_runs(work: dict[str, object]) -> None:
    db = work["db"]
    link_id = add_link(db, "liveSched1")
    first = run(schedule_argv(work, "--once"), work)
    assert first.returncode == 0, first.stderr
    assert sorted((j, o) for j, o, _, _ in job_runs(db)) == [("check", "ok"), ("crawl:alpha", "ok")]
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT liveness FROM links WHERE id = %s", (link_id,)).fetchone()[0] == "live"
        assert conn.execute("SELECT status, pages FROM crawl_runs").fetchall() == [("finished", 3)]
    second = run(schedule_argv(work, "--once"), work)
    assert second.returncode == 0, second.stderr
    assert "nothing is due" in second.stderr
    assert len(job_runs(db)) == 2
    # the scheduler was "down" for 5 hours: five hourly check runs were missed; it runs once
    with psycopg.connect(db) as conn:
        conn.execute("UPDATE job_runs SET started_at = started_at - interval '5 hours'")
    third = run(schedule_argv(work, "--once"), work)
    assert third.returncode == 0, third.stderr
    jobs = [j for j, _, _, _ in job_runs(db)]
    assert jobs.count("check") == 2
    assert jobs.count("crawl:alpha") == 2  # */5 minutes: also missed, also once
    assert "crawl:manual" not in jobs  # no schedule
    assert "crawl:off" not in jobs  # disabled


def test_weekly_report_job_waits_for_its_time_then_runs(work: dict[str, object]) -> None:
    db = work["db"]
    argv = [LINKWATCH, "schedule", "--once", "--check-cron", "off", "--report-cron", "0 9 * * mon"]
    first = run(argv, work)
    assert first.returncode == 0, first.stderr
    assert job_runs(db) == []  # never run, but not due until Monday 09:00
    with psycopg.connect(db) as conn:  # it last ran more than a week ago: due once now
        conn.execute("INSERT INTO job_runs (job, started_at, finished_at, outcome) "
                     "VALUES ('report', now() - interval '8 days', now() - interval '8 days', 'ok')")
    second = run(argv, work)
    assert second.returncode == 0, second.stderr
    [(job, outcome, code, detail)] = job_runs(db)[1:]
    assert (job, outcome, code) == ("report", "ok", 0), detail
    assert re.search(r"\d{4}-W\d{2}", detail)  # the report's summary names the week it wrote


def test_hung_crawl_is_killed_and_its_run_marked_failed(work: dict[str, object]) -> None:
    db = work["db"]
    started = time.monotonic()
    result = run(schedule_argv(work, "--once", "--check-cron", "off", "--timeout", "3",
                               "--kill-grace", "1", seconds=120), work)
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "crawl:alpha (timeout)" in result.stderr
    [(job, outcome, _code, detail)] = job_runs(db)
    assert (job, outcome) == ("crawl:alpha", "timeout")
    assert "killed after 3s" in detail
    with psycopg.connect(db) as conn:
        status, finished, stats = conn.execute(
            "SELECT status, finished_at, stats FROM crawl_runs").fetchone()
    assert status == "failed"
    assert finished is not None
    assert stats["closed_by"] == "scheduler"


def test_source_locked_by_another_crawl_is_skipped(work: dict[str, object]) -> None:
    db = work["db"]
    holder = psycopg.connect(db, autocommit=True)
    try:
        from linkwatch.sources import Source

        source_id = runs.upsert_source(holder, Source(name="alpha", start_urls=["http://127.0.0.1:9/"]))
        runs.lock_source(holder, source_id, "alpha")  # a manual `linkwatch crawl alpha` is running
        runner = sch.Runner(db, work["dir"] / "logs", health.hostname(), kill_grace=1,
                            env={k: v for k, v in work["env"].items() if k.startswith("LINKWATCH_")})
        job = sch.Job("crawl:alpha", shlex.split(crawl_command(work, 0.1).replace("{source}", "alpha")),
                      "* * * * *", 30)
        result = runner.run(job)
    finally:
        holder.close()
    assert result.outcome == "skipped"
    assert "lock is held" in result.detail
    assert job_runs(db)[0][1] == "skipped"
    assert not work["log"].exists()


def start_scheduler(argv: list[str], work: dict[str, object]) -> subprocess.Popen:
    return subprocess.Popen(argv, env=work["env"], cwd=work["dir"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def stop_scheduler(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate(timeout=10)
    return proc.returncode, err


@pytest.mark.slow
def test_two_schedulers_never_run_one_source_at_once(work: dict[str, object]) -> None:
    """Both schedulers fire `* * * * *` at the same minute boundary (bounded: at most ~75 s)."""
    db = work["db"]
    argv = schedule_argv(work, "--check-cron", "off", seconds=3)
    argv[argv.index("--sources") + 1] = str(sources_file(work, schedule="* * * * *"))
    if 60 - datetime.now(UTC).second < 8:  # let the boundary pass so both are up before the next
        time.sleep(60 - datetime.now(UTC).second + 1)
    with psycopg.connect(db) as conn:  # ran a moment ago: not due at start, only at the next minute
        conn.execute("INSERT INTO job_runs (job, finished_at, outcome) VALUES ('crawl:alpha', now(), 'ok')")
    a = start_scheduler(argv, work)
    b = start_scheduler(argv, work)
    try:
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            done = [r for r in job_runs(db)[1:] if r[1] in ("ok", "skipped")]
            if len(done) >= 2:
                break
            time.sleep(0.3)
    finally:
        code_a, err_a = stop_scheduler(a)
        code_b, err_b = stop_scheduler(b)
    assert code_a == 0, err_a
    assert code_b == 0, err_b
    spans = intervals(work["log"])
    assert len(spans) == 1, err_a + err_b
    outcomes = sorted(o for j, o, _, _ in job_runs(db)[1:] if j == "crawl:alpha")
    assert outcomes == ["ok", "skipped"], err_a + err_b  # both fired; one stood back


def test_start_up_catch_up_by_two_schedulers_does_not_overlap(work: dict[str, object]) -> None:
    db = work["db"]
    argv = schedule_argv(work, "--check-cron", "off", seconds=3)
    a = start_scheduler(argv, work)
    b = start_scheduler(argv, work)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(r[1] == "ok" for r in job_runs(db)):
            time.sleep(0.3)
        time.sleep(1)
    finally:
        code_a, err_a = stop_scheduler(a)
        code_b, err_b = stop_scheduler(b)
    assert code_a == 0, err_a
    assert code_b == 0, err_b
    spans = intervals(work["log"])
    for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
        assert e1 <= s2, f"overlapping crawls: {spans}"
    outcomes = [o for j, o, _, _ in job_runs(db) if j == "crawl:alpha"]
    assert outcomes.count("ok") == len(spans) == 1
    assert set(outcomes) <= {"ok", "skipped"}


def test_fast_schedule_repeats_the_check_job_and_stops_cleanly(work: dict[str, object]) -> None:
    db = work["db"]
    add_link(db, "liveFast1")
    proc = start_scheduler([LINKWATCH, "schedule", "--check-cron", "*/2 * * * * *", "--report-cron", "off"],
                           work)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sum(1 for j, o, _, _ in job_runs(db) if j == "check" and o == "ok") >= 3:
                break
            time.sleep(0.3)
    finally:
        code, err = stop_scheduler(proc)
    assert code == 0, err
    rows = job_runs(db)
    assert sum(1 for j, o, _, _ in rows if j == "check" and o == "ok") >= 3
    assert all(o != "running" for _, o, _, _ in rows)
    assert "check: ok" in err
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM link_checks").fetchone()[0] == 1  # due once only


def test_stopping_the_scheduler_interrupts_its_crawl(work: dict[str, object]) -> None:
    db = work["db"]
    proc = start_scheduler(schedule_argv(work, "--check-cron", "off", "--kill-grace", "1", seconds=120), work)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (work["log"].exists() and work["log"].read_text()):
            time.sleep(0.2)
    finally:
        code, err = stop_scheduler(proc)
    assert code == 0, err
    [(job, outcome, _code, _detail)] = job_runs(db)
    assert (job, outcome) == ("crawl:alpha", "interrupted")
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT status FROM crawl_runs").fetchone()[0] == "interrupted"


def test_changed_sources_file_is_picked_up_without_restart(work: dict[str, object]) -> None:
    db = work["db"]
    argv = schedule_argv(work, "--check-cron", "off", seconds=0.1)
    path = Path(argv[argv.index("--sources") + 1])
    proc = start_scheduler(argv, work)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(j == "crawl:alpha" and o == "ok"
                                                      for j, o, _, _ in job_runs(db)):
            time.sleep(0.3)
        path.write_text(path.read_text() + '[[source]]\nname = "beta"\n'
                        'start_urls = ["http://127.0.0.1:9/"]\nschedule = "0 3 * * *"\n')
        while time.monotonic() < deadline and not any(j == "crawl:beta" and o == "ok"
                                                      for j, o, _, _ in job_runs(db)):
            time.sleep(0.3)
        path.write_text("not [valid toml")
        time.sleep(2.5)
    finally:
        code, err = stop_scheduler(proc)
    assert code == 0, err
    jobs = [(j, o) for j, o, _, _ in job_runs(db)]
    assert ("crawl:beta", "ok") in jobs  # new source, never run: due at once
    assert jobs.count(("crawl:alpha", "ok")) == 1
    assert "sources file reloaded: crawl:alpha, crawl:beta" in err
    assert "not reloaded, keeping the schedule" in err


def test_list_shows_jobs_last_and_next(work: dict[str, object]) -> None:
    listed = run(schedule_argv(work, "--list"), work)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.splitlines()}
    assert set(lines) == {"crawl:alpha", "check"}
    assert lines["check"][1:3] == ["0 * * * *", "last never"]
    assert lines["check"][-1] == "due now"
    assert lines["crawl:alpha"][3].startswith("next ")
    assert job_runs(work["db"]) == []  # listing runs nothing


def test_bad_cron_and_missing_sources_file_are_one_sentence(work: dict[str, object]) -> None:
    bad = run([LINKWATCH, "schedule", "--once", "--check-cron", "every hour"], work)
    assert bad.returncode == 1
    assert "is not a cron expression" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = run([LINKWATCH, "schedule", "--once", "--sources", "nope.toml"], work)
    assert missing.returncode == 1
    assert "no such sources file" in missing.stderr


def test_due_since_coalesces_and_respects_never_run() -> None:
    tz = sch.timezone_of(type("C", (), {"timezone": "Asia/Seoul"})())
    job = sch.Job("report", ["true"], "0 9 * * mon", 10, run_if_never=False)
    now = datetime(2026, 11, 23, 10, 0, tzinfo=tz)  # a Monday, 10:00 Seoul
    assert sch.due_since(job, None, now, tz) is None
    last = datetime(2026, 11, 2, 9, 0, tzinfo=tz)  # three Mondays missed
    assert sch.due_since(job, last, now, tz) == datetime(2026, 11, 9, 9, 0, tzinfo=tz)
    assert sch.due_since(job, datetime(2026, 11, 23, 9, 0, 5, tzinfo=tz), now, tz) is None
    with pytest.raises(sch.ScheduleError):
        sch.cron_trigger("61 * * * *", tz)


def test_list_reads_cron_days_as_crontab_does(work: dict[str, object]) -> None:
    path = work["dir"] / "sunday.toml"
    table = '[[source]]\nname = "{}"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "{}"\n'
    path.write_text(table.format("sun0", "0 3 * * 0") + table.format("sun7", "0 3 * * 7")
                    + table.format("weekdays", "0 3 * * 1-5"))
    listed = run([LINKWATCH, "schedule", "--list", "--format", "jsonl", "--sources", str(path),
                  "--check-cron", "30 4 * * 0", "--report-cron", "off"], work)
    assert listed.returncode == 0, listed.stderr
    jobs = {row["job"]: row for row in map(json.loads, listed.stdout.splitlines())}
    for name in ("crawl:sun0", "crawl:sun7", "check"):  # Sunday, not Monday (APScheduler's 0)
        assert datetime.fromisoformat(jobs[name]["next"]).strftime("%a") == "Sun", jobs[name]
    assert datetime.fromisoformat(jobs["crawl:weekdays"]["next"]).strftime("%a") in ("Mon", "Tue", "Wed",
                                                                                     "Thu", "Fri")
    assert jobs["check"]["next"].endswith("+09:00")  # in LINKWATCH_TIMEZONE, with its offset
    text = run([LINKWATCH, "schedule", "--list", "--sources", str(path), "--report-cron", "off"], work)
    assert " KST" in text.stdout  # times labelled with their zone
    env_cron = run([LINKWATCH, "schedule", "--list", "--format", "jsonl", "--report-cron", "off"],
                   {**work, "env": {**work["env"], "LINKWATCH_SCHEDULE_CHECK_CRON": "0 3 * * 7"}})
    (check,) = map(json.loads, env_cron.stdout.splitlines())
    assert datetime.fromisoformat(check["next"]).strftime("%a") == "Sun"


def test_the_schedulers_own_lines_not_apschedulers(work: dict[str, object]) -> None:
    """A crawl every second that takes three: its next fire time finds it still running."""
    path = sources_file(work, schedule="*/1 * * * * *")
    argv = [LINKWATCH, "schedule", "--sources", str(path), "--report-cron", "off", "--check-cron", "off",
            "--crawl-command", crawl_command(work, 3)]
    proc = start_scheduler(argv, work)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(o == "ok" for _, o, _, _ in job_runs(work["db"])):
            time.sleep(0.3)
    finally:
        code, err = stop_scheduler(proc)
    assert code == 0, err
    assert "crawl:alpha: still running from its last time; the run due " in err
    assert "crawl:alpha: next run " in err
    assert "maximum number of running instances" not in err  # APScheduler's raw record
    assert "Execution of job" not in err
    for line in err.splitlines():
        assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST ", line), line  # every line stamped, zone too


def test_a_broken_crawl_command_is_one_sentence(work: dict[str, object]) -> None:
    result = run([LINKWATCH, "schedule", "--once", "--sources", str(sources_file(work)),
                  "--crawl-command", 'linkwatch crawl "{source}'], work)
    assert result.returncode == 1
    assert "--crawl-command" in result.stderr
    assert "No closing quotation" in result.stderr
    assert "Traceback" not in result.stderr
