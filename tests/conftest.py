"""Shared fixtures: a throwaway PostgreSQL database, Chromium, Redis; a missing service fails, never skips."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from linkwatch.config import Config
from linkwatch.db.migrate import migrate
from tests.utils import forum as forum_site
from tests.utils.pgserver import ThrowawayServer
from tests.utils.seeding import Seed

# A test run started in the background by a script (`make test &`) inherits SIGINT ignored, and so would
# every command the tests start: Python then installs no Ctrl-C handler in them, and the tests that stop
# one with Ctrl-C would wait for nothing. Caught, not ignored, SIGINT is back to the default in a child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _admin_url_with_db(url: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """LINKWATCH_TEST_DATABASE_URL (CI sets it), else a throwaway embedded server for this session."""
    url = os.environ.get("LINKWATCH_TEST_DATABASE_URL")
    if url:
        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            pytest.fail(f"LINKWATCH_TEST_DATABASE_URL is set but unreachable: {exc}")
        yield url
        return
    from linkwatch.db import embedded

    # linkwatch's own embedded server (private socket, password), not the package's (trust, opened parents).
    data_dir = Path(tempfile.mkdtemp(prefix="lw-test-pg-"))
    try:
        yield embedded.start(data_dir, announce=False, database="postgres")
    finally:
        embedded.remove(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped at the end."""
    name = f"lw_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _admin_url_with_db(pg_admin_url, name)
    migrate(url)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def db(pg_url: str) -> str:
    """The session database with every table emptied: each test starts clean."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'schema_migrations'"
            )
        ]
        if tables:
            # The audit log refuses TRUNCATE by trigger (migration 0009); a superuser's test cleanup
            # switches triggers off for this one session.
            conn.execute("SET session_replication_role = replica")
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in tables)
                )
            )
    return pg_url


@pytest.fixture
def lw_env(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running linkwatch against the test database with a private data directory."""
    env = {
        "LINKWATCH_DATABASE_URL": db,
        "LINKWATCH_DATA_DIR": str(tmp_path / "data"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env

@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium binary for browser tests; missing Chromium fails the test with how to fix it."""
    path = Config().chromium_path()
    if not path or not Path(path).exists():
        pytest.fail(
            "Chromium not found: `apt-get install chromium` or set LINKWATCH_CHROMIUM "
            "(locally you may deselect browser tests with -m 'not browser')"
        )
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    """LINKWATCH_TEST_REDIS_URL (default redis://127.0.0.1:6379/15); an unreachable Redis fails the test."""
    import redis

    url = os.environ.get("LINKWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {url} is unreachable ({exc}); start redis-server or set LINKWATCH_TEST_REDIS_URL"
        )
    return url


@pytest.fixture
def empty_db(pg_admin_url: str) -> Iterator[str]:
    """A database with nothing in it (not even migrations), dropped afterwards."""
    name = f"lw_empty_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def seed(db: str) -> Iterator[Seed]:
    """Synthetic rows (made-up codes) inserted straight into the clean test database."""
    s = Seed(db)
    yield s
    s.close()


@pytest.fixture
def forum() -> Iterator[forum_site.TestForum]:
    """The local test forum on 127.0.0.1 (a fresh request log per test)."""
    with forum_site.TestForum() as site:
        yield site


@pytest.fixture
def throwaway_server() -> Iterator[ThrowawayServer]:
    """A private PostgreSQL (linkwatch's embedded server) that this test may stop and restart, migrated;
    never the shared one."""
    server = ThrowawayServer()
    migrate(server.url)
    yield server
    server.remove()


@pytest.fixture
def unused_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def role_url(pg_admin_url: str, db: str) -> Iterator[Callable[..., str]]:
    """Makes a login role for one person (IN ROLE linkwatch_analyst, or another group) and returns a URL
    to the test database as that role; the roles are dropped afterwards (roles are cluster-wide)."""
    made: list[str] = []

    def make(name: str, group: str = "linkwatch_analyst") -> str:
        role, password = f"lw_{name}_{secrets.token_hex(3)}", secrets.token_hex(12)
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(role), sql.Literal(password), sql.Identifier(group)))
        made.append(role)
        return psycopg.conninfo.make_conninfo(db, user=role, password=password)

    yield make
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for role in made:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
