"""Runs the console under uvicorn on a socket linkwatch binds itself (so a busy port is one sentence)."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Callable

import uvicorn

from linkwatch.config import Config
from linkwatch.errors import LinkwatchError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ServeError(LinkwatchError):
    """Raised by listen() when the address cannot be bound (in use, not this host's, not allowed)."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                 flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host!r}: {exc.strerror}; give an address of this host "
                         "with --host") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port "
                         "or stop what uses it") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def configure_logging() -> None:
    """One line per request (linkwatch.web.access) and the console's warnings, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name, level in (("linkwatch.web", logging.INFO), ("uvicorn.error", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


class _Server(uvicorn.Server):
    """uvicorn's server, calling `ready` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._ready()


def run(config: Config, database_url: str, sock: socket.socket, *, behind_proxy: bool = False,
        ready: Callable[[], None] = lambda: None) -> None:
    """Serves the console on `sock` until SIGINT/SIGTERM.

    `behind_proxy`: trust X-Forwarded-Proto and X-Forwarded-For from a proxy on this host (127.0.0.1),
    so that cookies are marked Secure under HTTPS and login limits count the real client address.
    """
    from linkwatch.web.app import create_app

    configure_logging()
    app = create_app(config, database_url)
    uv = uvicorn.Config(app, log_config=None, access_log=False, proxy_headers=behind_proxy,
                        forwarded_allow_ips="127.0.0.1", server_header=False, lifespan="on",
                        timeout_graceful_shutdown=5)
    _Server(uv, ready).run(sockets=[sock])
