"""Alert targets and settings from the Config: labels without secrets, stable keys, doubling retries."""

from __future__ import annotations

import pytest

from linkwatch.alerts.targets import alert_settings, email_target, parse_smtp, split_list, webhook_target
from linkwatch.config import Config

HOOK = "https://hooks.example.invalid/services/T0/B0/secret-token"


def test_alerts_are_off_until_a_target_is_configured() -> None:
    assert not alert_settings(Config()).enabled
    settings = alert_settings(Config(alert_webhooks=f"{HOOK}, http://127.0.0.1:8080/hook {HOOK}"))
    assert settings.enabled
    assert [t.label for t in settings.targets] == ["https://hooks.example.invalid/…", "http://127.0.0.1:8080/…"]


def test_a_webhook_is_known_by_a_digest_and_shown_without_its_path() -> None:
    target = webhook_target(HOOK)
    assert target.key.startswith("webhook:")
    assert "secret" not in target.key + target.label + repr(target)
    assert webhook_target(HOOK).key == target.key
    assert webhook_target(HOOK + "x").key != target.key
    assert webhook_target("http://[::1]:9/h").label == "http://[::1]:9/…"


def test_smtp_urls_and_the_email_target() -> None:
    smtp = parse_smtp("smtps://alerts%40example.invalid:p%3Ass@mail.example.invalid")
    assert (smtp.host, smtp.port, smtp.tls, smtp.user, smtp.password) == (
        "mail.example.invalid", 465, True, "alerts@example.invalid", "p:ss")
    assert "p:ss" not in repr(smtp)
    assert parse_smtp("smtp://mail.example.invalid").port == 25
    one = email_target("smtp://u:one@mail.example.invalid:587", "lw@example.invalid", ["a@example.invalid"])
    two = email_target("smtp://u:two@mail.example.invalid:587", "lw@example.invalid", ["a@example.invalid"])
    assert one.key == two.key  # a new password is the same target
    assert one.label == "mail to a@example.invalid"


def test_retries_double_up_to_an_hour() -> None:
    settings = alert_settings(Config(alert_webhooks=HOOK, alert_retry_seconds=30))
    assert [settings.retry_after(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert settings.retry_after(50) == 3600


@pytest.mark.parametrize(("value", "items"), [("", []), (" a, b ,a\nc", ["a", "b", "c"])])
def test_lists_split_on_commas_and_spaces(value, items) -> None:
    assert split_list(value) == items


def test_the_config_never_shows_a_webhook_or_smtp_url() -> None:
    config = Config(alert_webhooks=HOOK, alert_smtp="smtp://u:hunter2@mail.example.invalid",
                    alert_email_from="lw@example.invalid", alert_email_to="a@example.invalid")
    assert "secret-token" not in repr(config)
    assert "hunter2" not in repr(config)
