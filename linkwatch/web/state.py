"""What every request of the console shares: the configuration, the connection pool, the templates."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from jinja2 import Environment
from psycopg_pool import ConnectionPool, PoolTimeout

from linkwatch.config import Config
from linkwatch.web.errors import UnavailableError
from linkwatch.web.ratelimit import LoginLimiter

log = logging.getLogger("linkwatch.web")


@dataclass
class Console:
    """The running console: built once by create_app() from the entry point's Config."""

    config: Config
    database_url: str
    pool: ConnectionPool
    templates: Environment
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    pool_timeout: float = 10
    session_idle_seconds: int = 3600
    session_absolute_seconds: int = 12 * 3600
    # Figures that are the same for every user and cost a pass over a million links (the dashboard's):
    # name -> (fresh until, value). Refreshing flags keep one refresh per name at a time.
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _refreshing: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cached(self, name: str, seconds: float, compute: Callable[[psycopg.Connection], Any],
               conn: psycopg.Connection) -> Any:
        """compute(conn)'s value, kept `seconds`; once stale it is still served while a background
        thread computes the next one, so only the first request after start waits for it."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(name)
            stale = hit is not None and hit[0] <= now
            refresh = stale and name not in self._refreshing
            if refresh:
                self._refreshing.add(name)
        if hit is None:
            value = compute(conn)
            with self._lock:
                self._cache[name] = (time.monotonic() + seconds, value)
            return value
        if refresh:
            threading.Thread(target=self._refresh, args=(name, seconds, compute), daemon=True,
                             name=f"lw-refresh-{name}").start()
        return hit[1]

    def _refresh(self, name: str, seconds: float, compute: Callable[[psycopg.Connection], Any]) -> None:
        try:
            with self.pool.connection(timeout=self.pool_timeout) as conn:
                value = compute(conn)
            with self._lock:
                self._cache[name] = (time.monotonic() + seconds, value)
        except Exception as exc:  # the stale figures stay; the next request tries again
            log.warning("refreshing %s failed: %s", name, exc.__class__.__name__)
        finally:
            with self._lock:
                self._refreshing.discard(name)


def console(request: Request) -> Console:
    return request.app.state.console


def db(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection (autocommit) for the request; 503 when the database cannot be reached."""
    state = console(request)
    try:
        with state.pool.connection(timeout=state.pool_timeout) as conn:
            yield conn
    except PoolTimeout:
        raise UnavailableError("the database cannot be reached right now; try again in a moment") from None
    except psycopg.OperationalError as exc:
        log.warning("database error: %s", exc.__class__.__name__)
        raise UnavailableError("the database connection failed; try again in a moment") from None


# A route's pooled connection, as a parameter type.
Conn = Annotated[psycopg.Connection, Depends(db)]
