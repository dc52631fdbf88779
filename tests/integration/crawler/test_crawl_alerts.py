"""Alerts from real crawls of the local board forum to a local webhook receiver: new links at or above
the threshold (global or the source's) are posted once, a failing receiver is retried with backoff, and
a receiver that is down never stops the crawl: `linkwatch alerts send` delivers later."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from tests.utils.alerts import HIGH, HOT_CODE, codes_scoring, hot_lexicon, outbox
from tests.utils.board import Board
from tests.utils.crawl import LINKWATCH, UA, run_linkwatch
from tests.utils.webhook import WebhookReceiver

pytestmark = pytest.mark.slow


def write_sources(tmp_path: Path, url: str, extra: str = "", *, delay: float = 0.0) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[source]]\nname = "board"\nstart_urls = ["{url}/"]\ndelay = {delay}\n'
                    f"concurrency = 1\n{extra}\n", encoding="utf-8")
    return path


def alert_env(lw_env: dict[str, str], tmp_path: Path, hook_url: str, **more: str) -> dict[str, str]:
    return {**lw_env, "LINKWATCH_LEXICON": str(hot_lexicon(tmp_path)), "LINKWATCH_ALERT_WEBHOOKS": hook_url,
            "LINKWATCH_ALERT_RETRY_SECONDS": "0.1", **more}


def crawl(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = run_linkwatch(["crawl", "board", "--sources", str(path)], env)
    assert done.returncode == 0, done.stderr
    return done


def test_a_crawl_posts_its_new_high_scoring_links_once(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with Board(boards=2, threads=2, pages=1) as forum, WebhookReceiver() as hook:
        path = write_sources(tmp_path, forum.url)
        env = alert_env(lw_env, tmp_path, hook.url, LINKWATCH_ALERT_SCORE="0.5")
        done = crawl(path, env)
        high = codes_scoring(db, 0.5)
        assert f"board: {len(high)} alerts for new links at or above the alert score" in done.stdout
        assert HOT_CODE in high
        assert 0 < len(high) < len(forum.codes())  # some links score high, most do not
        posts = hook.wait_for_posts(len(high))
        assert {p["code"] for p in posts} == high  # every new high-scoring link, nothing else
        assert len(posts) == len(high)  # each once
        hot = next(p for p in posts if p["code"] == HOT_CODE)
        assert hot["platform"] == "telegram"
        assert hot["url"] == f"https://t.me/+{HOT_CODE}"
        assert hot["score"] == pytest.approx(HIGH)
        assert hot["threshold"] == pytest.approx(0.5)
        assert hot["page_url"] == f"{forum.url}/thread/1-0?page=1"
        assert HOT_CODE in hot["context"]
        assert hot["source"] == "board"
        assert hot["found_at"]
        assert hot["link_id"] == next(r["link_id"] for r in outbox(db) if r["code"] == HOT_CODE)
        assert hook.headers[0]["Content-Type"].startswith("application/json")
        assert hook.headers[0]["User-Agent"] == UA
        rows = outbox(db)
        assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}
        assert all(r["sent_at"] >= r["created_at"] for r in rows)

        crawl(path, env)  # the links are known now: nothing new, nothing posted again
        assert hook.attempts == len(high)
        assert len(outbox(db)) == len(high)


@pytest.mark.parametrize(("global_score", "source_score", "alerted"), [
    ("0.5", 0.95, False),  # the source's own threshold is stricter than the global one
    ("0.95", 0.5, True),   # and wins when it is looser
])
def test_a_sources_alert_score_wins_over_the_global_one(lw_env, tmp_path, global_score, source_score,
                                                        alerted) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with Board(boards=2, threads=2, pages=1) as forum, WebhookReceiver() as hook:
        path = write_sources(tmp_path, forum.url, f"alert_score = {source_score}")
        crawl(path, alert_env(lw_env, tmp_path, hook.url, LINKWATCH_ALERT_SCORE=global_score))
        expected = codes_scoring(db, source_score) if alerted else set()
        assert {r["code"] for r in outbox(db)} == expected
        assert (HOT_CODE in expected) is alerted
        assert {p["code"] for p in hook.wait_for_posts(len(expected))} == expected


def test_a_failing_receiver_is_retried_with_backoff_until_it_takes_the_alert(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with Board(boards=2, threads=2, pages=1) as forum, WebhookReceiver(fail_first=2) as hook:
        path = write_sources(tmp_path, forum.url)
        crawl(path, alert_env(lw_env, tmp_path, hook.url, LINKWATCH_ALERT_SCORE="0.5"))
        high = codes_scoring(db, 0.5)
        hook.wait_for_posts(len(high))  # the receiver answers 500 twice to each alert, then takes it
        rows = outbox(db)
        assert len(rows) == len(high)
        assert {(r["status"], r["attempts"], r["last_error"]) for r in rows} == {("sent", 3, None)}
        assert hook.attempts == 3 * len(rows)
        # the backoff doubles: the second retry waited about twice as long as the first
        assert all(r["sent_at"] - r["created_at"] >= timedelta(seconds=0.1 + 0.2) for r in rows)


def test_a_receiver_that_is_down_never_stops_the_crawl_and_alerts_send_delivers_later(
        lw_env, tmp_path, unused_tcp_port) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    hook_url = WebhookReceiver.url_at(unused_tcp_port)
    with Board(boards=2, threads=2, pages=1) as forum:
        path = write_sources(tmp_path, forum.url)
        env = alert_env(lw_env, tmp_path, hook_url, LINKWATCH_ALERT_SCORE="0.5", LINKWATCH_ALERT_ATTEMPTS="3")
        done = crawl(path, env)
        assert "finished" in done.stdout
    high = codes_scoring(db, 0.5)
    rows = outbox(db)
    assert {r["code"] for r in rows} == high
    assert {r["status"] for r in rows} <= {"pending", "failed"}
    assert all(r["attempts"] >= 1 and r["sent_at"] is None for r in rows)
    assert all(r["last_error"] == f"http://127.0.0.1:{unused_tcp_port}/… could not be reached (ConnectError)"
               for r in rows)
    assert all("secret-token" not in r["last_error"] for r in rows)

    with WebhookReceiver(port=unused_tcp_port) as hook:
        sent = run_linkwatch(["alerts", "send", "--retry-now"], env)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.startswith(f"sent {len(high)} · 0 to retry · 0 failed · 0 pending")
        assert {p["code"] for p in hook.posts} == high
    assert {r["status"] for r in outbox(db)} == {"sent"}


def test_a_crawl_killed_right_after_a_batch_commits_still_delivers_its_alert(lw_env, tmp_path,
                                                                             unused_tcp_port) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    hook_url = WebhookReceiver.url_at(unused_tcp_port)  # down while the crawl runs: nothing is sent
    listener = psycopg.connect(db, autocommit=True)
    listener.execute("LISTEN linkwatch_alerts")
    # 1 + 3 boards + 30 thread pages at 0.3 s each: the crawl is still going when the first batch commits.
    with Board(boards=3, threads=5, pages=2) as forum:
        path = write_sources(tmp_path, forum.url, delay=0.3)
        env = alert_env(lw_env, tmp_path, hook_url, LINKWATCH_ALERT_SCORE="0.5")
        proc = subprocess.Popen([LINKWATCH, "crawl", "board", "--sources", str(path)],
                                env={**os.environ, **env, "LINKWATCH_USER_AGENT": UA},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            heard = list(listener.notifies(timeout=120, stop_after=1))  # the batch with alerts committed
            assert heard, "no batch with an alert committed"
            assert proc.poll() is None, f"the crawl ended before it could be killed: {proc.communicate()}"
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=60)
            listener.close()
        assert proc.returncode == -signal.SIGKILL
    rows = outbox(db)
    assert rows
    assert {r["status"] for r in rows} == {"pending"}
    with WebhookReceiver(port=unused_tcp_port) as hook:
        sent = run_linkwatch(["alerts", "send", "--retry-now"], env)
        assert sent.returncode == 0, sent.stderr
        posts = hook.wait_for_posts(len(rows))
    assert sorted(p["alert_id"] for p in posts) == [r["id"] for r in rows]
    assert {r["status"] for r in outbox(db)} == {"sent"}
