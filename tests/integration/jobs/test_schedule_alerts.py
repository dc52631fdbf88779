"""`linkwatch schedule` delivers what a crawl left pending (the `alerts` job), and has no such job while
no alert target is configured."""

from __future__ import annotations

import psycopg

from linkwatch.alerts.targets import StorePolicy, webhook_target
from linkwatch.config import Config
from linkwatch.db.store import store_batch
from linkwatch.jobs import schedule as sch
from tests.utils.alerts import alert_link, alert_page, outbox
from tests.utils.crawl import run_linkwatch
from tests.utils.webhook import WebhookReceiver

ONCE = ["schedule", "--once", "--check-cron", "off", "--report-cron", "off"]


def test_the_scheduler_delivers_pending_alerts(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with WebhookReceiver() as hook:
        target = webhook_target(hook.url)
        with psycopg.connect(db, autocommit=True) as conn:  # what a crawl that could not deliver left
            page = alert_page("https://forum.example.invalid/t/1", alert_link("LwSched1Abc", score=0.9))
            store_batch(conn, [page], None, alerts=StorePolicy(0.5, ((target.key, target.label),)))
        env = {**lw_env, "LINKWATCH_ALERT_WEBHOOKS": hook.url,
               "LINKWATCH_SOURCES": str(tmp_path / "absent.toml")}
        done = run_linkwatch(ONCE, env)
        assert done.returncode == 0, done.stderr
        (post,) = hook.wait_for_posts(1)
    assert post["code"] == "LwSched1Abc"
    assert [r["status"] for r in outbox(db)] == ["sent"]
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT job, outcome FROM job_runs").fetchall() == [("alerts", "ok")]


def test_no_alerts_job_without_a_target_or_when_turned_off() -> None:
    hook = "https://hooks.example.invalid/T0/secret"
    assert sch.alerts_cron(Config()) is None
    assert sch.alerts_cron(Config(alert_webhooks=hook)) == "* * * * *"
    assert sch.alerts_cron(Config(alert_webhooks=hook, schedule_alerts_cron="off")) is None
    options = sch.JobOptions(sources_file=None, check_cron=None, report_cron=None, timeout=60,
                             alerts_cron="*/2 * * * *")
    (job,) = sch.build_jobs(options, Config().zone)
    assert (job.name, job.argv[-2:], job.cron) == ("alerts", ["alerts", "send"], "*/2 * * * *")
