"""Crawl leases: a crawl's hold on its source that survives a PostgreSQL restart, renewed by a heartbeat."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable

import psycopg

from linkwatch.db import DatabaseError, connect
from linkwatch.db.health import process_alive
from linkwatch.db.runs import SourceLockedError
from linkwatch.db.sql import query

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # a lease nobody renews is free again after this long
RENEW_SECONDS = 5.0  # the holder renews it this often (a dozen chances before it would expire)


def new_holder() -> str:
    """This process's name as a lease holder: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def take(conn: psycopg.Connection, source_id: int, name: str, holder: str, run_id: int | None = None) -> None:
    """Takes the source's lease for `holder`; SourceLockedError when another live crawl holds it.

    A lease is free when nobody holds it, when it has expired, or at once when its holder was a
    process on this host that is gone (killed, crashed): `crawl --resume` need not wait out the lease.
    """
    row = conn.execute(query("leases", "get"), {"source_id": source_id}).fetchone()
    previous = None
    if row is not None:
        old_holder, host, pid, live = row
        gone_here = host == socket.gethostname() and not process_alive(pid)
        if live and not gone_here and old_holder != holder:
            raise SourceLockedError(
                f"another crawl of source {name!r} is running; try again when it has finished")
        previous = old_holder
    got = conn.execute(query("leases", "take"), {
        "source_id": source_id, "holder": holder, "host": socket.gethostname(), "pid": os.getpid(),
        "run_id": run_id, "ttl": LEASE_SECONDS, "previous": previous}).fetchone()
    if got is None or got[0] != holder:
        raise SourceLockedError(
            f"another crawl of source {name!r} is running; try again when it has finished")


def held_by_another(conn: psycopg.Connection, source_id: int) -> bool:
    """Whether a live crawl holds the source's lease (a distributed worker must then not start)."""
    row = conn.execute(query("leases", "get"), {"source_id": source_id}).fetchone()
    if row is None:
        return False
    _holder, host, pid, live = row
    return bool(live) and not (host == socket.gethostname() and not process_alive(pid))


def renew(conn: psycopg.Connection, source_id: int, holder: str, run_id: int | None = None) -> bool:
    """Extends the lease; False when it is no longer this holder's (another crawl took it)."""
    cur = conn.execute(query("leases", "renew"), {"source_id": source_id, "holder": holder,
                                                  "run_id": run_id, "ttl": LEASE_SECONDS})
    return cur.rowcount > 0


def release(conn: psycopg.Connection, source_id: int, holder: str) -> None:
    conn.execute(query("leases", "release"), {"source_id": source_id, "holder": holder})


class LeaseKeeper:
    """Renews a crawl's leases every RENEW_SECONDS from its own thread and connection.

    An outage only delays the renewal (the lease outlives it by LEASE_SECONDS, and a server restart
    keeps the row); when the server is back the keeper reconnects. If another crawl has taken a lease
    meanwhile (the outage outlasted it), `on_lost(source_id)` is called once: the crawl must stop.
    """

    def __init__(self, url: str, holder: str, on_lost: Callable[[int], None]) -> None:
        self.url = url
        self.holder = holder
        self.on_lost = on_lost
        self.leases: dict[int, int | None] = {}  # source id -> run id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None

    def add(self, source_id: int, run_id: int | None) -> None:
        self.leases[source_id] = run_id

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="linkwatch-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(RENEW_SECONDS):
            self.renew_all()

    def renew_all(self) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.url, autocommit=True, connect_timeout=5)
            for source_id, run_id in list(self.leases.items()):
                if not renew(self._conn, source_id, self.holder, run_id):
                    log.error("another crawl took the lease on source %s; stopping this crawl", source_id)
                    self.leases.pop(source_id, None)
                    self.on_lost(source_id)
        except (psycopg.Error, DatabaseError) as exc:
            log.warning("cannot renew the crawl lease yet (%s); will retry", exc)
            self._close_conn()

    def stop(self, release_leases: bool = True) -> None:
        """Stops renewing and, if the database is reachable, gives the leases back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(RENEW_SECONDS + 10)
        if release_leases:
            with contextlib.suppress(psycopg.Error, DatabaseError), \
                    connect(self.url, autocommit=True, connect_timeout=5) as conn:
                for source_id in self.leases:
                    release(conn, source_id, self.holder)
        self._close_conn()

    def _close_conn(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
