"""Delivers one alert to one target (a webhook POST or an e-mail); a failure is one sentence, no secret."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
from typing import ClassVar

import httpx

from linkwatch.alerts.message import Alert, email, payload
from linkwatch.alerts.targets import Target


class HideWebhookURLs(logging.Filter):
    """httpx logs every request's URL at INFO; a webhook's path may hold its token, so the filter puts
    the target's label in its place (installed on the `httpx` logger by post())."""

    labels: ClassVar[dict[str, str]] = {}  # webhook URL -> label
    _lock = threading.Lock()

    @classmethod
    def install(cls, url: str, label: str) -> None:
        with cls._lock:
            if not any(isinstance(f, cls) for f in logging.getLogger("httpx").filters):
                logging.getLogger("httpx").addFilter(cls())
            cls.labels[url] = label

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(self.labels.get(str(arg), arg) if not isinstance(arg, int) else arg
                                for arg in record.args)
        return True


class DeliveryError(Exception):
    """A delivery failed; the message is one sentence that names the target's label, never its URL."""


def deliver(alert: Alert, target: Target, *, timeout: float, user_agent: str) -> None:
    """Sends `alert` to `target`; DeliveryError when it did not arrive."""
    if target.kind == "webhook":
        post(alert, target, timeout=timeout, user_agent=user_agent)
    else:
        send_mail(alert, target, timeout=timeout)


def post(alert: Alert, target: Target, *, timeout: float, user_agent: str) -> None:
    """POSTs the alert as JSON; any 2xx is delivered. Redirects are not followed (a webhook that moves
    must be configured anew, rather than alerts sent wherever a response points)."""
    assert target.url is not None
    HideWebhookURLs.install(target.url, target.label)
    body = json.dumps(payload(alert), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": user_agent}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(target.url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError(f"{target.label} did not answer within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{target.label} could not be reached ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"{target.label} answered HTTP {response.status_code}")


def send_mail(alert: Alert, target: Target, *, timeout: float) -> None:
    """Sends the alert e-mail through the target's SMTP server (TLS, or STARTTLS when offered)."""
    smtp, sender = target.smtp, target.sender
    if smtp is None or sender is None:
        raise DeliveryError(f"{target.label}: no SMTP server or From address configured")
    message = email(alert, sender, target.recipients)
    where = f"SMTP server {smtp.host}:{smtp.port}"
    try:
        context = ssl.create_default_context()
        client: smtplib.SMTP = (smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
                                if smtp.tls else smtplib.SMTP(smtp.host, smtp.port, timeout=timeout))
        with client:
            client.ehlo()
            if not smtp.tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            client.send_message(message, from_addr=sender, to_addrs=list(target.recipients))
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"{where} refused the login") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{where} answered {exc.smtp_code}") from None
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryError(f"{where} refused the recipients") from None
    except TimeoutError:
        raise DeliveryError(f"{where} did not answer within {timeout:g}s") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{where} could not be used ({type(exc).__name__})") from None
