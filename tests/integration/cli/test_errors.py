"""Every bad input of issue #14 meets a sentence, not a traceback: one `Error:` line on stderr, exit 1
(2 for a usage error), never a password. Each case runs the real `linkwatch` in a subprocess."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from tests.utils.crawl import LINKWATCH, UA

pytestmark = pytest.mark.slow

PASSWORD = "s3cret-Pw0rd"
# Commands that reach the database, each with the arguments it needs to get that far.
DATABASE_COMMANDS = [
    ["db", "migrate"], ["db", "migrate", "--dry-run"], ["db", "status"], ["db", "check"],
    ["db", "replay"], ["links"], ["links", "show", "1"], ["review"],
    ["review", "confirm", "1", "--category", "other"],
    ["report", "weekly", "--week", "2026-W45", "--dry-run"], ["report", "stats"], ["check"],
    ["check", "--due"], ["sources", "status"], ["schedule", "--list"], ["schedule", "--once"],
    ["crawl", "--url", "http://127.0.0.1:9/"], ["runs"], ["runs", "show", "1"], ["runs", "jobs"],
]
MALFORMED_URLS = [
    f"postgresql://lw:{PASSWORD}@[bad",  # an IPv6 host never closed
    f"postgresql://lw:{PASSWORD}@127.0.0.1:99999/lw",  # no such port
    f"postgresql://lw:{PASSWORD}@127.0.0.1/lw?sslmode=bogus",
    f"host=127.0.0.1 password={PASSWORD} port=notaport",
    "not a url at all",
]


def linkwatch(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    full = {**os.environ, "LINKWATCH_USER_AGENT": UA, **env}
    return subprocess.run([LINKWATCH, *args], env=full, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)


def problems(result: subprocess.CompletedProcess, status: int, *expected: str) -> list[str]:
    """What is wrong with how a bad input was answered (empty when it was one sentence)."""
    found = []
    if result.returncode != status:
        found.append(f"exit {result.returncode}, not {status}")
    if "Traceback" in result.stderr or "Traceback" in result.stdout:
        found.append("a traceback")
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    if status and len(errors) != 1:
        found.append(f"{len(errors)} Error: lines")
    if PASSWORD in result.stdout + result.stderr:
        found.append("the password")
    if "refused the operation" in result.stderr:
        found.append("'refused the operation' although no server was contacted")
    found += [f"no {text!r}" for text in expected if text not in result.stderr]
    return found


def walk(cases: list[tuple[list[str], dict[str, str], int, tuple[str, ...]]], cwd: Path) -> None:
    """Runs every case (two at a time: the machine is shared) and reports all that went wrong at once."""
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: linkwatch(c[0], c[1], cwd), cases))
    wrong = {" ".join(args) + (f"  [{' '.join(f'{k}={v}' for k, v in env.items())}]" if env else ""):
             (found, result.stderr[-600:])
             for (args, env, status, expected), result in zip(cases, results, strict=True)
             if (found := problems(result, status, *expected))}
    assert not wrong, "\n".join(f"{case}: {found}\n{err}" for case, (found, err) in wrong.items())


def test_a_malformed_database_url_is_one_sentence_everywhere(lw_env, tmp_path: Path) -> None:
    cases = []
    for url in MALFORMED_URLS[:2]:  # every command with two kinds of malformed URL…
        for args in DATABASE_COMMANDS:
            cases.append((["--database-url", url, *args], {}, 1, ()))
    for url in MALFORMED_URLS[2:]:  # …the other kinds with two commands
        for args in (["db", "migrate"], ["links"]):
            cases.append((["--database-url", url, *args], {}, 1, ()))
    for args in DATABASE_COMMANDS:  # the same through the environment
        cases.append((args, {"LINKWATCH_DATABASE_URL": MALFORMED_URLS[0]}, 1,
                      ("the database URL is malformed",)))
    walk([(a, {"LINKWATCH_DATA_DIR": str(tmp_path / "data"), **e}, s, x) for a, e, s, x in cases], tmp_path)


def test_bad_settings_are_one_sentence_naming_the_variable(lw_env, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory", encoding="utf-8")
    env = dict(lw_env)
    cases = [
        (["links"], {"LINKWATCH_TIMEZONE": "Mars/Base"}, 1,
         ("LINKWATCH_TIMEZONE: unknown time zone 'Mars/Base'",)),
        (["links"], {"LINKWATCH_REVIEWERS_REQUIRED": "two"}, 1,
         ("LINKWATCH_REVIEWERS_REQUIRED: must be a whole number (got 'two')",)),
        (["links"], {"LINKWATCH_REVIEWERS_REQUIRED": "0"}, 1,
         ("LINKWATCH_REVIEWERS_REQUIRED: must be at least 1",)),
        (["check"], {"LINKWATCH_CHECK_RATE": "nan"}, 1, ("LINKWATCH_CHECK_RATE: must be a number",)),
        (["check"], {"LINKWATCH_CHECK_TIMEOUT": "inf"}, 1, ("LINKWATCH_CHECK_TIMEOUT",)),
        (["check"], {"LINKWATCH_TELEGRAM_URL": "garbage"}, 1,
         ("LINKWATCH_TELEGRAM_URL: must be an http(s) URL",)),
        (["check"], {"LINKWATCH_USER_AGENT": "ops\r\nX-Injected: 1"}, 1, ("LINKWATCH_USER_AGENT",)),
        (["schedule", "--list"], {"LINKWATCH_SCHEDULE_CHECK_CRON": "0 3 * * 8"}, 1,
         ("LINKWATCH_SCHEDULE_CHECK_CRON: '0 3 * * 8' is not a cron expression",)),
        # an unusable data directory, wherever it is used
        (["crawl", "--url", "http://127.0.0.1:9/"], {"LINKWATCH_DATA_DIR": str(a_file)}, 1,
         (f"LINKWATCH_DATA_DIR {a_file} is not a directory",)),
        (["schedule", "--once", "--check-cron", "off", "--report-cron", "0 9 * * mon"],
         {"LINKWATCH_DATA_DIR": str(a_file)}, 1, ("LINKWATCH_DATA_DIR",)),
        (["report", "weekly", "--week", "2026-W45"], {"LINKWATCH_DATA_DIR": str(a_file)}, 1,
         ("LINKWATCH_DATA_DIR",)),
        (["db", "replay"], {"LINKWATCH_DATA_DIR": str(a_file)}, 1, ("LINKWATCH_DATA_DIR",)),
        (["crawl", "--url", "http://127.0.0.1:9/"], {"LINKWATCH_DATA_DIR": "/proc/no/such/dir"}, 1,
         ("LINKWATCH_DATA_DIR /proc/no/such/dir cannot be used",)),
        (["--database-url", "", "links"], {"LINKWATCH_DATA_DIR": str(a_file / "sub")}, 1,
         ("could not start the embedded PostgreSQL",)),
    ]
    walk([(a, {**env, **e}, s, x) for a, e, s, x in cases], tmp_path)


def test_bad_option_values_are_usage_errors(lw_env, tmp_path: Path) -> None:
    env = dict(lw_env)
    cases = [
        (["links", "--min-score", "NaN"], 2, ("is not a finite number",)),
        (["links", "--min-score", "inf"], 2, ("is not a finite number",)),
        (["links", "--min-score", "1e309"], 2, ("is not a finite number",)),
        (["links", "--min-score", "3"], 2, ("is not between 0 and 1",)),  # the score runs from 0 to 1
        (["links", "--offset", "99999999999999999999"], 2, ("--offset",)),
        (["links", "--limit", "99999999999999999999"], 2, ("--limit",)),
        (["links", "--since", "yesterday"], 2, ("is not a date",)),
        (["links", "--platform", "telegarm"], 2, ("did you mean telegram?",)),
        (["links", "--kind", "channel"], 2, ("did you mean public_channel?",)),
        (["links", "--source", "no-such-source"], 2, ("no source named 'no-such-source'",)),
        (["links", "--platform", "discord", "show", "6"], 2, ("--platform filters the search",)),
        (["review", "--limit", "99999999999999999999"], 2, ("--limit",)),
        (["check", "--limit", "99999999999999999999"], 2, ("--limit",)),
        (["check", "--rate", "nan"], 2, ("--rate",)),
        (["check", "--platform", "telegarm"], 2, ("--platform",)),
        (["crawl", "--url", "http://[::1"], 2, ("not a URL",)),
        (["crawl", "--url", "http://127.0.0.1:9/", "--max-pages", "99999999999"], 2, ("--max-pages",)),
        (["crawl", "--url", "http://127.0.0.1:9/", "--idle-timeout", "nan"], 2, ("--idle-timeout",)),
        (["schedule", "--once", "--timeout", "nan"], 2, ("--timeout",)),
        (["schedule", "--once", "--kill-grace", "inf"], 2, ("--kill-grace",)),
        (["runs", "show", "99999999999999999999"], 2, ("RUN",)),
        (["runs", "--source", "no-such-source"], 2, ("no source named",)),
    ]
    walk([(a, env, s, x) for a, s, x in cases], tmp_path)


def test_bad_weeks_and_links_are_one_sentence(lw_env, tmp_path: Path) -> None:
    env = dict(lw_env)
    cases = [
        (["report", "weekly", "--week", "9999-W52"], 1, ("past the last week linkwatch can report",)),
        (["report", "weekly", "--week", "2062-W50"], 1, ("2062-W50 has not started yet",)),
        (["report", "weekly", "--week", "2026-W54"], 1, ("is not an ISO week",)),
        (["report", "weekly", "--week", "last week"], 1, ("is not an ISO week like 2026-W47",)),
        (["links", "show", "99999999999999999999"], 1, ("no link matches",)),
        (["check", "https://t.me/+nosuchSynthetic"], 1, ("no link matches",)),
        (["review", "dismiss", "nosuchSynthetic"], 1, ("no link matches",)),
        (["schedule", "--once", "--crawl-command", 'linkwatch crawl "{source}', "--sources",
          str(tmp_path / "one.toml")], 1, ("--crawl-command",)),
        (["schedule", "--once", "--check-cron", "every hour"], 1, ("is not a cron expression",)),
        (["sources", "check", str(tmp_path / "empty.toml")], 1, ("no [[source]] tables",)),
    ]
    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    (tmp_path / "one.toml").write_text('[[source]]\nname = "a"\nstart_urls = ["http://127.0.0.1:9/"]\n'
                                       'schedule = "0 3 * * 0"\n', encoding="utf-8")
    walk([(a, env, s, x) for a, s, x in cases], tmp_path)


def test_dates_at_the_ends_of_the_calendar_are_answered(lw_env, tmp_path: Path) -> None:
    env = dict(lw_env)
    cases = [
        (["links", "--until", "9999-12-31"], 0, ()),  # the end of time: no upper bound
        (["links", "--since", "9999-12-31"], 0, ()),
        (["links", "--since", "0001-01-01", "--seen", "first"], 0, ()),
        (["report", "weekly", "--week", "0001-W01", "--dry-run"], 0, ()),
    ]
    walk([(a, env, s, x) for a, s, x in cases], tmp_path)
    early = linkwatch(["report", "weekly", "--week", "0001-W01", "--dry-run"], env, tmp_path)
    assert "0001-W01: 0 link(s)" in early.stdout  # not "1-W01"


def test_a_database_error_mid_command_is_one_sentence(lw_env, monkeypatch: pytest.MonkeyPatch) -> None:
    def cancelled(*_args: object, **_kwargs: object) -> None:
        raise psycopg.errors.QueryCanceled(
            f"canceling statement due to statement timeout (password={PASSWORD})")

    monkeypatch.setattr("linkwatch.db.links.stream", cancelled)
    result = CliRunner().invoke(main, ["links"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: database error: canceling statement due to statement timeout")
    assert PASSWORD not in result.output
