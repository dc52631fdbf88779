"""Security headers on every response (Content-Security-Policy first), Server-Timing, and the access log."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("linkwatch.web.access")

# The console's pages: everything from the console itself, nothing inline, no plugins, no framing.
CSP_PAGE = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
# API answers are data: nothing in them may run or load even if a browser renders one.
CSP_API = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive API docs (vendored Swagger UI) set inline styles and data: icons of their own.
CSP_DOCS = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
]


class SecurityHeaders:
    """ASGI middleware: adds the headers a route did not set itself, times the request, logs one line.

    The log line has the method, the path without its query (search terms are in the audit log, not
    in a log file), the status, the time taken and the user.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope.get("path", "")
        status = {"code": 0}

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    policy = CSP_API if path.startswith("/api/") else CSP_PAGE
                    headers.append((b"content-security-policy", policy.encode()))
                if b"x-frame-options" not in present:
                    headers.append((b"x-frame-options", b"DENY"))
                if b"cache-control" not in present:
                    # Pages hold investigation data: no copy on disk, none in a shared cache.
                    headers.append((b"cache-control", b"no-store"))
                headers.extend(h for h in COMMON if h[0] not in present)
                elapsed = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={elapsed:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            state = scope.get("state") or {}
            viewer = state.get("viewer")
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %d %.0fms %s", client[0], scope.get("method", "-"), path, status["code"],
                     elapsed, viewer.name if viewer is not None else "-")
