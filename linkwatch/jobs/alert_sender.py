"""Sends what the alert outbox holds: one pass (`alerts send`), or a thread beside a crawl that LISTENs
for the batches' NOTIFY and delivers within seconds of the commit, retrying with backoff."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

import psycopg

from linkwatch.alerts.targets import AlertSettings
from linkwatch.db import alerts as outbox
from linkwatch.db import connect, describe
from linkwatch.jobs.alert_delivery import DeliveryError, deliver

log = logging.getLogger(__name__)

PASS_LIMIT = 10_000  # deliveries in one pass at most; the next pass takes the rest
POLL_SECONDS = 1.0  # the thread looks at the outbox at least this often (a NOTIFY wakes it at once)
RECONNECT_SECONDS = 5.0
CONNECT_OPTIONS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                   "keepalives_count": 3}


@dataclass
class SendResult:
    """What one pass did: delivered, to be retried later, given up (failed)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __iadd__(self, other: SendResult) -> SendResult:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        return self


def send_due(conn: psycopg.Connection, settings: AlertSettings, user_agent: str, *,
             deadline: float | None = None, limit: int = PASS_LIMIT) -> SendResult:
    """Delivers every alert due now for the configured targets, each in its own transaction holding
    its row (so two senders never send one alert twice); a failure is recorded with its next try."""
    result = SendResult()
    keys = settings.keys
    for _ in range(limit):
        if deadline is not None and time.monotonic() >= deadline:
            break
        with conn.transaction():
            alert = outbox.claim(conn, keys)
            if alert is None:
                break
            target = settings.target(alert.target)
            assert target is not None  # claim() takes only configured targets
            try:
                deliver(alert, target, timeout=settings.timeout, user_agent=user_agent)
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # a bug must not stop the sender; the row says what happened
                log.exception("alert %d: unexpected error", alert.id)
                error = f"unexpected {type(exc).__name__}"
            else:
                outbox.mark_sent(conn, alert.id)
                result.sent += 1
                continue
            status = outbox.mark_failed(conn, alert.id, error, max_attempts=settings.attempts,
                                        retry_seconds=settings.retry_after(alert.attempts + 1))
            if status == "failed":
                result.failed += 1
                log.warning("alert %d to %s failed for good: %s", alert.id, target.label, error)
            else:
                result.retrying += 1
                log.info("alert %d to %s failed, will retry: %s", alert.id, target.label, error)
    return result


def follow(url: str, settings: AlertSettings, user_agent: str, stop: threading.Event, *,
           drain_seconds: float = 0.0, on_pass: object = None) -> SendResult:
    """Delivers alerts as they become due until `stop` is set: LISTENs for the store's NOTIFY, wakes at
    each retry time (and every POLL_SECONDS), reconnects after an outage. Once stopped, delivers what
    is due for at most `drain_seconds` more."""
    total = SendResult()
    conn: psycopg.Connection | None = None
    keys = settings.keys
    try:
        while not stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect(url, autocommit=True, **CONNECT_OPTIONS)
                    outbox.listen(conn)
                total += send_due(conn, settings, user_agent)
                if callable(on_pass):
                    on_pass(total)
                wait = outbox.seconds_to_next(conn, keys)
                wait = POLL_SECONDS if wait is None else min(max(wait, 0.01), POLL_SECONDS)
                for _ in conn.notifies(timeout=wait, stop_after=1):
                    pass
            except psycopg.Error as exc:
                log.warning("alerts: PostgreSQL unavailable, trying again: %s", describe(exc))
                if conn is not None:
                    with contextlib.suppress(psycopg.Error):
                        conn.close()
                conn = None
                stop.wait(RECONNECT_SECONDS)
        if drain_seconds > 0:
            with contextlib.suppress(psycopg.Error):
                if conn is None or conn.closed:
                    conn = connect(url, autocommit=True, **CONNECT_OPTIONS)
                total += _drain(conn, settings, user_agent, time.monotonic() + drain_seconds)
    finally:
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()
    return total


def _drain(conn: psycopg.Connection, settings: AlertSettings, user_agent: str, deadline: float) -> SendResult:
    """Delivers what is due, and the retries that fall due, until `deadline`; leaves the rest pending."""
    total = SendResult()
    for _ in range(PASS_LIMIT):  # each round sends or waits for a retry that falls due before the deadline
        total += send_due(conn, settings, user_agent, deadline=deadline)
        wait = outbox.seconds_to_next(conn, settings.keys)
        left = deadline - time.monotonic()
        if wait is None or wait >= left:
            break
        for _ in conn.notifies(timeout=max(wait, 0.01), stop_after=1):
            pass
    return total


class AlertSender:
    """The sender thread a crawl runs beside it; start() and stop() never raise, and never block the
    crawl for longer than the final drain."""

    def __init__(self, url: str, settings: AlertSettings, user_agent: str, *,
                 drain_seconds: float = 5.0) -> None:
        self.url, self.settings, self.user_agent = url, settings, user_agent
        self.drain_seconds = drain_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.result = SendResult()

    def start(self) -> AlertSender:
        if self.settings.enabled:
            self._thread = threading.Thread(target=self._run, name="linkwatch-alerts", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = follow(self.url, self.settings, self.user_agent, self._stop,
                                 drain_seconds=self.drain_seconds)
        except Exception:  # the crawl goes on; `alerts send` or the scheduler delivers what is left
            log.exception("alert sender stopped")

    def stop(self) -> SendResult:
        """Stops the thread after a last delivery of what is due (bounded); returns what it sent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.drain_seconds + self.settings.timeout + POLL_SECONDS + 5)
        return self.result


@dataclass
class SendReport:
    """What `alerts send` did, and what is left in the outbox for the configured targets."""

    result: SendResult
    pending: int
    next_in: float | None  # seconds until the next pending alert is due


def send_pending(url: str, settings: AlertSettings, user_agent: str, *, retry_now: bool = False,
                 stop: threading.Event | None = None) -> SendReport:
    """`alerts send`: delivers what is due now (with `retry_now`, also the alerts waiting to retry and
    those that gave up), once; with
    `stop`, keeps delivering as alerts arrive until it is set (`--follow`)."""
    with connect(url, autocommit=True, **CONNECT_OPTIONS) as conn:
        if retry_now:
            outbox.retry_now(conn, settings.keys)
        if stop is not None:
            result = follow(url, settings, user_agent, stop)
        else:
            result = send_due(conn, settings, user_agent)
        pending = outbox.count_pending(conn, settings.keys)
        return SendReport(result, pending, outbox.seconds_to_next(conn, settings.keys))
