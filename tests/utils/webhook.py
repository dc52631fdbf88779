"""A webhook receiver on 127.0.0.1: records every JSON POST, can answer 500 to the first N tries of each
alert, and lets a test wait for posts (a threading.Condition, never a clock)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """`with WebhookReceiver(fail_first=2) as hook: hook.url` — `posts` are the accepted documents; with
    `fail_first` N, the first N POSTs of each alert are answered 500."""

    def __init__(self, fail_first: int = 0, path: str = "/hooks/T0SYNTHETIC/secret-token",
                 port: int = 0) -> None:
        self.fail_first = fail_first
        self.path = path
        self.posts: list[dict[str, Any]] = []
        self.attempts = 0  # every POST, accepted or failed
        self.tries: Counter[object] = Counter()  # POSTs per alert_id
        self.headers: list[dict[str, str]] = []
        self.arrived: dict[str, float] = {}  # code -> time.perf_counter() when its POST was accepted
        self.cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                body = self.rfile.read(length)
                now = time.perf_counter()
                document = json.loads(body)
                with receiver.cond:
                    receiver.attempts += 1
                    receiver.tries[document.get("alert_id")] += 1
                    failing = (self.path != receiver.path
                               or receiver.tries[document.get("alert_id")] <= receiver.fail_first)
                    if not failing:
                        receiver.posts.append(document)
                        receiver.arrived[str(document.get("code"))] = now
                        receiver.headers.append(dict(self.headers))
                    receiver.cond.notify_all()
                status = 404 if self.path != receiver.path else (500 if failing else 204)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def url_at(port: int, path: str = "/hooks/T0SYNTHETIC/secret-token") -> str:
        """The URL a receiver on `port` will have (for a test that starts it later)."""
        return f"http://127.0.0.1:{port}{path}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for_posts(self, n: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Blocks until at least n documents were accepted; returns them all."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.posts) >= n, timeout)
            assert ok, f"the webhook received {len(self.posts)} of {n} posts in {timeout}s"
            return list(self.posts)

    def wait_for_attempts(self, n: int, timeout: float = 60.0) -> None:
        """Blocks until at least n POSTs arrived (accepted or failed)."""
        with self.cond:
            assert self.cond.wait_for(lambda: self.attempts >= n, timeout), \
                f"the webhook saw {self.attempts} of {n} POSTs in {timeout}s"

    def wait_for_code(self, code: str, timeout: float = 30.0) -> float:
        """Blocks until the alert for `code` was accepted; returns when it arrived (time.perf_counter)."""
        with self.cond:
            assert self.cond.wait_for(lambda: code in self.arrived, timeout), \
                f"the webhook received no alert for {code} in {timeout}s"
            return self.arrived[code]
