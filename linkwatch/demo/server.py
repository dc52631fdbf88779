"""Serves the bundled demo forum (linkwatch/demo/site) on 127.0.0.1 from a background thread."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SITE_DIR = Path(__file__).resolve().parent / "site"
# The demo ships no pictures; requests for them are counted (and answered 404) to show none happen.
MEDIA_PREFIXES = ("/img/", "/media/", "/attach/", "/favicon.ico")


class _Handler(SimpleHTTPRequestHandler):
    server: _DemoHTTPServer

    def log_message(self, *args: object) -> None:
        return  # the crawl's own progress is the output

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.count(path)
        if path.startswith(MEDIA_PREFIXES):
            self.send_error(404)
            return
        if path == "/out":
            target = parse_qs(urlsplit(self.path).query).get("url", ["/"])[0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), partial(_Handler, directory=str(SITE_DIR)))
        self.lock = threading.Lock()
        self.requests = 0
        self.media_requests = 0

    def count(self, path: str) -> None:
        with self.lock:
            self.requests += 1
            if path.startswith(MEDIA_PREFIXES):
                self.media_requests += 1


class DemoServer:
    """`with DemoServer(port) as server: server.url` — the demo forum on 127.0.0.1."""

    def __init__(self, port: int = 0) -> None:
        self.httpd = _DemoHTTPServer(port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="linkwatch-demo", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def media_requests(self) -> int:
        return self.httpd.media_requests

    def __enter__(self) -> DemoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
