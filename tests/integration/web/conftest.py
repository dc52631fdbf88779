"""Fixtures for the console's tests: a synthetic world in its own database (shared by a module's read-only
tests) or in the per-test database, and the console running on 127.0.0.1 in this process."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from linkwatch.db.migrate import migrate
from tests.utils.console import Console, World, build_world, run_console


@pytest.fixture(scope="module")
def module_db(pg_admin_url: str) -> Iterator[str]:
    """A migrated database of this module's own (its tests only read, or change what only they use)."""
    name = f"lw_web_{secrets.token_hex(4)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(pg_admin_url, dbname=name)
    migrate(url)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def world(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(module_db, tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def console(module_db: str, world: World) -> Iterator[Console]:
    """The console on the module's world (two reviewers required to confirm)."""
    with run_console(module_db, world.data_dir, reviewers_required=2) as running:
        yield running


@pytest.fixture
def fresh_world(db: str, tmp_path: Path) -> World:
    """A world in the per-test database, for tests that change it (no referral: faster)."""
    return build_world(db, tmp_path / "data", referral=False)


@pytest.fixture
def fresh_console(db: str, fresh_world: World) -> Iterator[Console]:
    with run_console(db, fresh_world.data_dir, reviewers_required=2) as running:
        yield running


@pytest.fixture
def api(console: Console) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console.url, timeout=30) as client:
        yield client
