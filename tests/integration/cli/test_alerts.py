"""`linkwatch alerts list` and `alerts send` as a user runs them: every --format, hostile crawled text
made safe for the terminal, one sentence when no target is configured."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import psycopg

from linkwatch.alerts.targets import StorePolicy, webhook_target
from linkwatch.db.store import store_batch
from tests.utils.alerts import alert_link, alert_page
from tests.utils.crawl import run_linkwatch
from tests.utils.webhook import WebhookReceiver

HOSTILE_CODE = "LwEsc1\x1b[2J\x1b]0;owned\x07Abc"
HOOK = "http://127.0.0.1:9/hooks/T0SYNTHETIC/secret-token"


def enqueue(db: str, hook: str = HOOK) -> None:
    target = webhook_target(hook)
    page = alert_page("https://forum.example.invalid/t/1",
                      alert_link(HOSTILE_CODE, score=0.9, context="=HYPERLINK(1)"),
                      alert_link("LwList2Abc", score=0.7))
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [page], None, alerts=StorePolicy(0.5, ((target.key, target.label),)))


def test_alerts_list_in_every_format_with_crawled_text_made_safe(lw_env) -> None:
    enqueue(lw_env["LINKWATCH_DATABASE_URL"])
    text = run_linkwatch(["alerts", "list"], {**lw_env, "COLUMNS": "250"})
    assert text.returncode == 0, text.stderr
    assert "\x1b" not in text.stdout
    assert "\x07" not in text.stdout
    assert "LwList2Abc" in text.stdout
    assert "http://127.0.0.1:9/…" in text.stdout
    assert "secret-token" not in text.stdout
    assert "2 alerts" in text.stdout

    lines = run_linkwatch(["alerts", "list", "--format", "jsonl"], lw_env).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert {r["code"] for r in rows} == {"LwList2Abc", HOSTILE_CODE}
    assert {r["status"] for r in rows} == {"pending"}
    assert all("secret-token" not in json.dumps(r) for r in rows)
    document = run_linkwatch(["alerts", "list", "--format", "json", "--status", "pending"], lw_env).stdout
    assert "\x1b" not in document  # json_for_terminal escapes control characters
    assert len(json.loads(document)) == 2
    sent = run_linkwatch(["alerts", "list", "--format", "json", "--status", "sent"], lw_env).stdout
    assert json.loads(sent) == []
    spreadsheet = run_linkwatch(["alerts", "list", "--format", "csv"], lw_env).stdout
    table = list(csv.DictReader(io.StringIO(spreadsheet)))
    assert {r["context"] for r in table} >= {"'=HYPERLINK(1)"}  # defused for spreadsheets


def test_alerts_send_delivers_and_says_what_it_did(lw_env) -> None:
    with WebhookReceiver() as hook:
        enqueue(lw_env["LINKWATCH_DATABASE_URL"], hook.url)
        done = run_linkwatch(["alerts", "send"], {**lw_env, "LINKWATCH_ALERT_WEBHOOKS": hook.url})
        assert done.returncode == 0, done.stderr
        assert done.stdout == "sent 2 · 0 to retry · 0 failed · 0 pending\n"
        assert {p["code"] for p in hook.wait_for_posts(2)} == {HOSTILE_CODE, "LwList2Abc"}
        again = run_linkwatch(["alerts", "send"], {**lw_env, "LINKWATCH_ALERT_WEBHOOKS": hook.url})
        assert again.stdout == "sent 0 · 0 to retry · 0 failed · 0 pending\n"
        assert hook.attempts == 2


def test_alerts_send_without_a_target_is_one_sentence(lw_env) -> None:
    done = run_linkwatch(["alerts", "send"], lw_env)
    assert done.returncode == 1
    assert done.stderr == ("Error: no alert target is configured: set LINKWATCH_ALERT_WEBHOOKS or "
                           "LINKWATCH_ALERT_SMTP\n")


def test_bad_alert_settings_are_one_sentence_that_never_repeats_a_secret(lw_env) -> None:
    cases = {
        "LINKWATCH_ALERT_WEBHOOKS": (
            "https://ok.example.invalid/a, ftp://h/secret-token",
            "Error: LINKWATCH_ALERT_WEBHOOKS: entry 2 is not an http(s) URL with a host\n"),
        "LINKWATCH_ALERT_SMTP": (
            "imap://u:secret-pass@mail.example.invalid",
            "Error: LINKWATCH_ALERT_SMTP: must start with smtp:// (STARTTLS when the server offers it) "
            "or smtps:// (TLS)\n"),
    }
    for name, (value, message) in cases.items():
        done = run_linkwatch(["alerts", "list"], {**lw_env, name: value})
        assert done.returncode == 1
        assert done.stderr == message
        assert "secret" not in done.stderr
    done = run_linkwatch(["alerts", "list"], {**lw_env, "LINKWATCH_ALERT_SMTP": "smtp://mail.example.invalid",
                                              "LINKWATCH_ALERT_EMAIL_FROM": "lw@example.invalid"})
    assert done.stderr == ("Error: LINKWATCH_ALERT_EMAIL_TO: needs at least one address when "
                           "LINKWATCH_ALERT_SMTP is set\n")


def test_pages_a_killed_crawl_left_in_its_journal_are_alerted_when_they_are_stored(lw_env) -> None:
    from linkwatch.db.journal import Journal, run_journal_dir

    data_dir = Path(lw_env["LINKWATCH_DATA_DIR"])
    journal = Journal(run_journal_dir(data_dir, "board", 1), run_id=None, source="board").open()
    journal.page(alert_page("https://forum.example.invalid/t/9", alert_link("LwJournal1Abc", score=0.9),
                            alert_link("LwJournal2Abc", score=0.1)))
    assert journal.close()  # as a SIGKILL leaves it: the page journaled, never stored
    with WebhookReceiver() as hook:
        env = {**lw_env, "LINKWATCH_ALERT_WEBHOOKS": hook.url, "LINKWATCH_ALERT_SCORE": "0.5"}
        replayed = run_linkwatch(["db", "replay"], env)
        assert replayed.returncode == 0, replayed.stderr
        assert "1 pages, 2 new links" in replayed.stdout
        sent = run_linkwatch(["alerts", "send"], env)
        assert sent.stdout.startswith("sent 1 ·"), sent.stdout + sent.stderr
        assert [p["code"] for p in hook.wait_for_posts(1)] == ["LwJournal1Abc"]
