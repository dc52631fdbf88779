"""The sender against the outbox and real receivers: e-mail through a local SMTP server (with a login),
headers that crawled text cannot extend, giving up after the configured attempts, two senders sharing
one outbox without sending anything twice, and the thread that follows NOTIFY."""

from __future__ import annotations

import logging
import threading

import psycopg

from linkwatch.alerts.targets import AlertSettings, StorePolicy, Target, email_target, webhook_target
from linkwatch.db.store import store_batch
from linkwatch.jobs.alert_sender import AlertSender, send_due, send_pending
from tests.utils.alerts import alert_link as make_link
from tests.utils.alerts import alert_page, outbox
from tests.utils.smtp import MailSink
from tests.utils.webhook import WebhookReceiver

UA = "linkwatch-test/1 (+ops@example.invalid)"
HOSTILE = "LwHostile1\r\nBcc: victim@example.invalid\r\nSubject: pwned"


def settings(*targets: Target, attempts: int = 8, retry: float = 0.05) -> AlertSettings:
    return AlertSettings(score=0.5, targets=tuple(targets), timeout=10, attempts=attempts,
                         retry_seconds=retry)


def store(db: str, settings_: AlertSettings, *links) -> None:
    policy = StorePolicy(settings_.score, tuple((t.key, t.label) for t in settings_.targets))
    with psycopg.connect(db, autocommit=True) as conn:
        store_batch(conn, [alert_page("https://forum.example.invalid/t/1", *links)], None, alerts=policy)


def test_an_alert_is_mailed_through_smtp_with_a_login_and_crawled_text_stays_in_the_body(db) -> None:
    with MailSink(user="lwalerts", password="s3cret-pass") as sink:
        target = email_target(sink.url(), "linkwatch@example.invalid", ["analysts@example.invalid"])
        config = settings(target)
        store(db, config, make_link("LwMail1Abc", score=0.9, context="channel " + HOSTILE))
        with psycopg.connect(db, autocommit=True) as conn:
            result = send_due(conn, config, UA)
        assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
        ((envelope, message),) = sink.wait_for(1)
    assert sink.logins == ["lwalerts"]
    assert envelope.rcpt_tos == ["analysts@example.invalid"]
    assert message["Subject"] == "linkwatch alert: new telegram link LwMail1Abc (score 0.90)"
    assert message["Bcc"] is None
    assert message.get_all("Subject") == [message["Subject"]]
    body = message.get_content()
    assert "LwMail1Abc" in body
    assert "Bcc: victim@example.invalid" in body  # crawled text is data in the body, never a header
    assert "\nBcc" not in body  # and one line of it: it cannot pose as a header in a reader either
    assert [r["status"] for r in outbox(db)] == ["sent"]
    assert target.label == "mail to analysts@example.invalid"
    assert "s3cret" not in repr(target)


def test_a_code_made_to_inject_a_header_is_reduced_in_the_subject(db) -> None:
    with MailSink() as sink:
        config = settings(email_target(sink.url(), "linkwatch@example.invalid", ["a@example.invalid"]))
        store(db, config, make_link(HOSTILE, score=0.9))
        with psycopg.connect(db, autocommit=True) as conn:
            send_due(conn, config, UA)
        ((envelope, message),) = sink.wait_for(1)
    assert envelope.rcpt_tos == ["a@example.invalid"]
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert message["Subject"].startswith("linkwatch alert: new telegram link LwHostile1Bcc")


def test_a_wrong_smtp_password_fails_in_one_sentence_without_the_password(db) -> None:
    with MailSink(user="lwalerts", password="right-pass") as sink:
        url = sink.url().replace("right-pass", "wrong-pass")
        config = settings(email_target(url, "linkwatch@example.invalid", ["a@example.invalid"]), attempts=1)
        store(db, config, make_link("LwMail2Abc", score=0.9))
        with psycopg.connect(db, autocommit=True) as conn:
            result = send_due(conn, config, UA)
    assert result.failed == 1
    (row,) = outbox(db)
    assert row["status"] == "failed"
    assert row["last_error"] == f"SMTP server 127.0.0.1:{sink.port} refused the login"


def test_an_alert_gives_up_after_the_configured_attempts(db, unused_tcp_port) -> None:
    config = settings(webhook_target(WebhookReceiver.url_at(unused_tcp_port)), attempts=2, retry=60)
    store(db, config, make_link("LwGiveUp1Abc", score=0.9))
    with psycopg.connect(db, autocommit=True) as conn:
        first = send_due(conn, config, UA)
        assert (first.retrying, first.failed) == (1, 0)
        conn.execute("UPDATE alert_outbox SET next_attempt_at = now()")  # the retry's time has come
        second = send_due(conn, config, UA)
        assert (second.retrying, second.failed) == (0, 1)
        assert send_due(conn, config, UA).failed == 0  # failed alerts are not tried again by themselves
    (row,) = outbox(db)
    assert (row["status"], row["attempts"]) == ("failed", 2)


def test_two_senders_never_send_one_alert_twice(db) -> None:
    with WebhookReceiver() as hook:
        config = settings(webhook_target(hook.url))
        store(db, config, *[make_link(f"LwTwice{n}Abc", score=0.9) for n in range(40)])
        barrier = threading.Barrier(2)
        results = []

        def one() -> None:
            barrier.wait(30)
            results.append(send_pending(db, config, UA).result.sent)

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        posts = hook.wait_for_posts(40)
    assert sum(results) == 40
    assert hook.attempts == 40
    assert len({p["alert_id"] for p in posts}) == 40


def test_the_sender_thread_delivers_what_a_batch_enqueues_when_it_commits(db) -> None:
    with WebhookReceiver() as hook:
        config = settings(webhook_target(hook.url))
        sender = AlertSender(db, config, UA).start()
        try:
            store(db, config, make_link("LwThread1Abc", score=0.9), make_link("LwThread2Abc", score=0.1))
            (post,) = hook.wait_for_posts(1)
            store(db, config, make_link("LwThread3Abc", score=0.7))
            posts = hook.wait_for_posts(2)
        finally:
            result = sender.stop()
    assert post["code"] == "LwThread1Abc"
    assert [p["code"] for p in posts] == ["LwThread1Abc", "LwThread3Abc"]
    assert result.sent == 2


def test_httpx_request_logs_show_the_webhook_label_not_its_token(db, caplog) -> None:
    with WebhookReceiver() as hook, caplog.at_level(logging.INFO, logger="httpx"):
        config = settings(webhook_target(hook.url))
        store(db, config, make_link("LwLog1Abc", score=0.9))
        with psycopg.connect(db, autocommit=True) as conn:
            assert send_due(conn, config, UA).sent == 1
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert requests  # httpx did log the request
    assert all("secret-token" not in m and "http://127.0.0.1:" in m for m in requests)
