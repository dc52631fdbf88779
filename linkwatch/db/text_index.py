"""The context search copy: fills sighting_texts from the queue every insert into sightings feeds."""

from __future__ import annotations

import contextlib
import logging
import threading

import psycopg

from linkwatch.db import DatabaseError, connect
from linkwatch.db.sql import query

log = logging.getLogger(__name__)

# Queued ranges per statement: a stored batch is one range of ~5,000 sightings, so a statement is
# one batch in a crawl and still a bounded transaction when row-by-row inserts queued one per row.
RANGES_PER_STATEMENT = 64
RETRY_SECONDS = 5.0  # after a failure, the thread tries again this often until it works


def queued(conn: psycopg.Connection) -> int:
    """Sighting ranges waiting for the copy (a stored batch is one)."""
    return conn.execute(query("text_index", "queued")).fetchone()[0]


def index_pending(conn: psycopg.Connection) -> int:
    """Copies every queued sighting's context into sighting_texts; returns the ranges done.

    Each statement is its own transaction on an autocommit connection, so an interruption keeps
    what was done and leaves the rest queued. Ranges another indexer holds are left to it.
    """
    statement = query("text_index", "copy")
    done = 0
    while n := conn.execute(statement, {"ranges": RANGES_PER_STATEMENT}).fetchone()[0]:
        done += n
    return done


class TextIndexer:
    """Runs index_pending() in a thread on its own connection, woken after each stored batch.

    The writer commits a batch and calls notify(); the copy and its trigram index are then built on
    the other core while the writer stores the next batch. A failure only delays the copy: the
    queue is durable and the text search reads queued sightings directly.
    """

    def __init__(self, url: str, connect_options: dict[str, object] | None = None) -> None:
        self.url = url
        # The store passes its own (timeouts, keepalives): a server that stops answering must not
        # hold the copier, and so the end of the crawl, on a dead socket.
        self.connect_options = connect_options or {"connect_timeout": 5}
        self.conn: psycopg.Connection | None = None
        self.failures = 0
        # notify() counts requests, the thread counts what it has finished: wait_idle() compares.
        self._cond = threading.Condition()
        self._asked = 0
        self._done = 0
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="linkwatch-text-index", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """There is new work: a batch was committed."""
        with self._cond:
            self._asked += 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Waits until the work notified so far was done (or failed, to be retried); False on timeout."""
        with self._cond:
            target = self._asked
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Finishes the queued work (bounded by `timeout`), then stops the thread and disconnects."""
        if self._thread is not None:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            self._thread.join(timeout)
            if self._thread.is_alive():
                # Its connection is still in use: the daemon thread ends with the process, and
                # what it did not commit stays queued.
                log.warning("the context search copy is still being filled; the next crawl finishes it")
                return
            self._thread = None
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None

    def _run(self) -> None:
        while True:
            with self._cond:
                # After a failure, try again every RETRY_SECONDS even without new work.
                self._cond.wait_for(lambda: self._asked > self._done or self._stop,
                                    RETRY_SECONDS if self.failures else None)
                target, stop = self._asked, self._stop
            self._index()
            with self._cond:
                self._done = max(self._done, target)
                self._cond.notify_all()
            if stop:
                return

    def _index(self) -> None:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = connect(self.url, autocommit=True, **self.connect_options)
            index_pending(self.conn)
            self.failures = 0
        except (psycopg.Error, DatabaseError) as exc:
            # Queued ranges stay queued: the next wake, retry or crawl copies them.
            self.failures += 1
            if self.failures == 1:
                log.warning("cannot fill the context search copy yet (%s); will retry", exc)
            if self.conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self.conn.close()
            self.conn = None
