"""What an alert says: the webhook's JSON document and the e-mail, built so crawled text stays data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any

EVENT = "linkwatch.new_link"
CONTEXT_CHARS = 2000  # a sighting's context is bounded already; an alert keeps it short
# Line breaks too: crawled text is one line of the body, so it cannot pose as headers or new paragraphs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_WORD = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Alert:
    """One claimed outbox row: the new link, the target it goes to, and the evidence."""

    id: int
    link_id: int
    target: str
    target_label: str
    source: str | None
    crawl_run_id: int | None
    threshold: float
    score: float
    page_url: str
    context: str
    found_at: datetime
    attempts: int
    platform: str
    kind: str
    code: str
    canonical_url: str


def payload(alert: Alert) -> dict[str, Any]:
    """The JSON document POSTed to a webhook (json.dumps escapes whatever the crawled text holds)."""
    return {
        "event": EVENT,
        "alert_id": alert.id,
        "link_id": alert.link_id,
        "platform": alert.platform,
        "kind": alert.kind,
        "code": alert.code,
        "url": alert.canonical_url,
        "score": round(float(alert.score), 4),
        "threshold": round(float(alert.threshold), 4),
        "page_url": alert.page_url,
        "context": alert.context[:CONTEXT_CHARS],
        "found_at": alert.found_at.isoformat(),
        "source": alert.source,
        "crawl_run_id": alert.crawl_run_id,
    }


def plain(text: str, limit: int) -> str:
    """Crawled text for one line of an e-mail body: control, line-breaking and direction-changing
    characters become spaces; bounded."""
    return _CONTROL.sub(" ", text)[:limit]


def email(alert: Alert, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The alert as an e-mail. The subject holds only the platform and code reduced to [A-Za-z0-9_.-]
    and the score, so crawled text can never add a header; everything crawled is in the body."""
    platform = _WORD.sub("", alert.platform)[:20] or "?"
    code = _WORD.sub("", alert.code)[:40] or "?"
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"linkwatch alert: new {platform} link {code} (score {alert.score:.2f})"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="linkwatch.invalid")
    lines = [
        f"linkwatch stored a new link scoring {alert.score:.2f} (threshold {alert.threshold:.2f}).",
        "",
        f"link id:   {alert.link_id}",
        f"platform:  {platform}",
        f"code:      {plain(alert.code, 200)}",
        f"link:      {plain(alert.canonical_url, 500)}",
        f"found on:  {plain(alert.page_url, 1000)}",
        f"found at:  {alert.found_at.isoformat()}",
        f"source:    {plain(alert.source or '-', 100)}",
        "",
        "context (crawled text, do not open links from it):",
        plain(alert.context, CONTEXT_CHARS),
    ]
    message.set_content("\n".join(lines), charset="utf-8")
    return message
