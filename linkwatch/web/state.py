"""What every request of the console shares: the configuration, the connection pool, the templates."""

from __future__ import annotations

import logging
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
    # Short-lived cache of expensive, shared figures (the dashboard's counts): name -> (until, value).
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    def cached(self, name: str, seconds: float, compute: Callable[[], Any]) -> Any:
        """compute()'s value, reused for `seconds` (figures that are the same for every user)."""
        hit = self._cache.get(name)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        self._cache[name] = (now + seconds, value)
        return value


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
