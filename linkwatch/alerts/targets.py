"""Where alerts go: the webhook and e-mail targets and the delivery settings, built from the Config."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

SMTP_PORTS = {"smtp": 25, "smtps": 465}
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_SPLIT = re.compile(r"[\s,]+")


def split_list(value: str | None) -> list[str]:
    """Items of a comma- or space-separated setting, in order, without blanks or repeats."""
    return list(dict.fromkeys(item for item in _SPLIT.split(value or "") if item))


def valid_webhook(url: str) -> bool:
    """True for an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:  # a bad port or IPv6 literal
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def valid_address(address: str) -> bool:
    """True for one plain e-mail address (no display name, nothing a header could be split on)."""
    return bool(_ADDRESS.match(address)) and not any(ord(c) < 32 or ord(c) == 127 for c in address)


def smtp_problem(url: str) -> str | None:
    """Why an SMTP URL cannot be used (never repeating its password), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not an smtp:// or smtps:// URL (bad port or host)"
    if parts.scheme not in SMTP_PORTS:
        return "must start with smtp:// (STARTTLS when the server offers it) or smtps:// (TLS)"
    if not parts.hostname:
        return "has no host (smtp://user:password@host:port)"
    if port == 0:
        return "has port 0"
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Smtp:
    """An SMTP server to send alert e-mails through."""

    host: str
    port: int
    tls: bool  # implicit TLS (smtps://); plain smtp:// upgrades with STARTTLS when offered
    user: str | None
    password: str | None = None

    def __repr__(self) -> str:  # the password never reaches a log line
        return f"Smtp(host={self.host!r}, port={self.port}, tls={self.tls}, user={self.user!r})"


@dataclass(frozen=True)
class Target:
    """One place alerts go. `key` (stored in the outbox) and `label` (shown) hold no secret."""

    kind: Literal["webhook", "email"]
    key: str
    label: str
    url: str | None = None  # webhook
    smtp: Smtp | None = None  # email
    sender: str | None = None
    recipients: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Target({self.key!r}, {self.label!r})"


def webhook_target(url: str) -> Target:
    """A webhook; its key is a digest of the URL, its label the scheme and host only (paths hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return Target("webhook", f"webhook:{_digest(url)}", f"{parts.scheme}://{host}{port}/…", url=url)


def parse_smtp(url: str) -> Smtp:
    """The server in an smtp:// or smtps:// URL (already checked by the Config)."""
    parts = urlsplit(url)
    return Smtp(
        host=parts.hostname or "", port=parts.port or SMTP_PORTS[parts.scheme], tls=parts.scheme == "smtps",
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def email_target(smtp_url: str, sender: str, recipients: list[str]) -> Target:
    """E-mail to `recipients`; the key changes with the server and the recipients, not the password."""
    smtp = parse_smtp(smtp_url)
    identity = f"{smtp.host}:{smtp.port}|{sender}|{','.join(recipients)}"
    return Target("email", f"email:{_digest(identity)}", "mail to " + ", ".join(recipients), smtp=smtp,
                  sender=sender, recipients=tuple(recipients))


@dataclass(frozen=True)
class AlertSettings:
    """The alert configuration every part uses: threshold, targets, and how deliveries are retried."""

    score: float
    targets: tuple[Target, ...]
    timeout: float = 10.0
    attempts: int = 8
    retry_seconds: float = 30.0
    max_retry_seconds: float = 3600.0

    @property
    def enabled(self) -> bool:
        return bool(self.targets)

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.targets]

    def target(self, key: str) -> Target | None:
        return next((t for t in self.targets if t.key == key), None)

    def retry_after(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones: doubling, capped."""
        return min(self.max_retry_seconds, self.retry_seconds * 2 ** max(0, min(attempts - 1, 30)))


def alert_settings(config: Any) -> AlertSettings:
    """The AlertSettings of a linkwatch.config.Config (alerts are off while it names no target)."""
    targets = [webhook_target(url) for url in split_list(config.alert_webhooks)]
    if config.alert_smtp:
        targets.append(email_target(config.alert_smtp, config.alert_email_from or "",
                                    split_list(config.alert_email_to)))
    return AlertSettings(score=config.alert_score, targets=tuple(targets), timeout=config.alert_timeout,
                         attempts=config.alert_attempts, retry_seconds=config.alert_retry_seconds)


def store_policy(keys_and_labels: list[Any] | None, score: float) -> StorePolicy | None:
    """The StorePolicy a crawl's pipeline builds from its settings (None: alerts off)."""
    pairs = [(str(k), str(label)) for k, label in (keys_and_labels or [])]
    return StorePolicy(score, tuple(pairs)) if pairs else None


@dataclass(frozen=True)
class StorePolicy:
    """What the store needs to enqueue alerts: the global threshold and the targets' keys and labels
    (no URL, no password: these travel through Scrapy settings)."""

    score: float
    targets: tuple[tuple[str, str], ...]


def store_policy_of(settings: AlertSettings) -> StorePolicy | None:
    """The StorePolicy of the configured targets (None: alerts off)."""
    if not settings.enabled:
        return None
    return StorePolicy(settings.score, tuple((t.key, t.label) for t in settings.targets))
