"""Small sites on 127.0.0.1 (a free port) served from a thread: a request handler, or a PageSite."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Yields the server's base URL (no trailing slash) while it serves `handler`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class PageSite:
    """A small site on 127.0.0.1 serving `page(path)` (None: 404) and a robots.txt that allows all,
    every request counted in `counts`: `with Site() as site: site.url`. Subclasses write `page`."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.served = threading.Condition(self.lock)  # notified after each request is counted
        self.server: ThreadingHTTPServer | None = None

    def page(self, path: str) -> str | None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self.server is not None, "serve the site first: with Site() as site"
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Self:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                with site.served:
                    site.counts[self.path] += 1
                    body = site.page(self.path)
                    site.served.notify_all()
                status, ctype = (200, "text/html; charset=utf-8") if body is not None else (404, "text/plain")
                if self.path == "/robots.txt":
                    status, ctype, body = 200, "text/plain", "User-agent: *\nDisallow:\n"
                data = (body or "not found").encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

