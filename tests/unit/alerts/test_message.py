"""The webhook document and the e-mail: every field, and crawled text that stays data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from linkwatch.alerts.message import Alert, email, payload

HOSTILE = "LwMsg1\r\nBcc: x@example.invalid\u202e\x1b[2J"


def alert(**changes: object) -> Alert:
    values: dict[str, object] = {
        "id": 7, "link_id": 42, "target": "webhook:00", "target_label": "https://h.example.invalid/…",
        "source": "board", "crawl_run_id": 3, "threshold": 0.8, "score": 0.93,
        "page_url": "https://f.example.invalid/t/1", "context": "join " + HOSTILE,
        "found_at": datetime(2026, 12, 7, 16, 0, tzinfo=UTC), "attempts": 0, "platform": "telegram",
        "kind": "invite", "code": "LwMsg1Abc", "canonical_url": "https://t.me/+LwMsg1Abc",
    }
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


def test_the_webhook_document_has_every_field_and_round_trips_hostile_text() -> None:
    document = payload(alert())
    assert document == {
        "event": "linkwatch.new_link", "alert_id": 7, "link_id": 42, "platform": "telegram", "kind": "invite",
        "code": "LwMsg1Abc", "url": "https://t.me/+LwMsg1Abc", "score": 0.93, "threshold": 0.8,
        "page_url": "https://f.example.invalid/t/1", "context": "join " + HOSTILE,
        "found_at": "2026-12-07T16:00:00+00:00", "source": "board", "crawl_run_id": 3,
    }
    assert json.loads(json.dumps(document))["context"] == "join " + HOSTILE


def test_the_email_subject_holds_no_crawled_text_and_the_body_holds_it_on_one_line() -> None:
    message = email(alert(code=HOSTILE), "lw@example.invalid", ("a@example.invalid", "b@example.invalid"))
    assert message["Subject"] == "linkwatch alert: new telegram link LwMsg1Bccxexample.invalid2J (score 0.93)"
    assert message["To"] == "a@example.invalid, b@example.invalid"
    assert message["Bcc"] is None
    body = message.get_content()
    context_line = next(line for line in body.splitlines() if line.startswith("join "))
    assert "Bcc: x@example.invalid" in context_line
    assert "\x1b" not in body
    assert "\u202e" not in body
    assert "\r" not in body.replace("\r\n", "\n")
