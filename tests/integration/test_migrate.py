"""The migration runner against real PostgreSQL: from empty, re-run, ledger checksums."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from crawler.config import SQL_DIR
from pipelines.migrate import MigrationError, discover, migrate, pending, status


def test_session_database_is_fully_migrated(db: str) -> None:
    with psycopg.connect(db) as conn:
        assert pending(conn) == []
        names = [s.migration.name for s in status(conn)]
    assert names == [m.name for m in discover()]
    assert names[0] == "0001_initial"


def test_rerun_applies_nothing(db: str) -> None:
    assert migrate(db) == []


def test_edited_migration_is_an_error(db: str, tmp_path: Path) -> None:
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    first = sorted((copy / "migrations").glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with psycopg.connect(db) as conn, pytest.raises(MigrationError, match="edited after it was applied"):
        status(conn, copy)
