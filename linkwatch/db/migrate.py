"""Applies sql/migrations/*.sql in order, recording each in a checksummed ledger, then sql/views/*.sql."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

from linkwatch.db import connect, describe
from linkwatch.db.sql import SQL_DIR, query
from linkwatch.errors import LinkwatchError

# Any constant works; it only has to be the same for every migrator.
MIGRATION_LOCK_KEY = 0x6C696E6B  # "link"
NO_TRANSACTION_MARK = "-- migrate: no-transaction"


class MigrationError(LinkwatchError):
    """Raised by migrate()/status() when an applied migration file was edited afterwards, or by
    migrate() when PostgreSQL refuses a migration."""


@dataclass(frozen=True)
class Migration:
    """One migration file and its checksum."""

    name: str
    path: Path
    checksum: str

    @property
    def transactional(self) -> bool:
        return not self.path.read_text(encoding="utf-8").lstrip().startswith(NO_TRANSACTION_MARK)


@dataclass(frozen=True)
class MigrationState:
    """A migration and whether (and when) it is applied."""

    migration: Migration
    applied_at: object | None


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """The migration files in filename order."""
    files = sorted((sql_dir / "migrations").glob("*.sql"))
    return [Migration(p.stem, p, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files]


def _applied(conn: psycopg.Connection) -> dict[str, tuple[str, object]]:
    if not conn.execute(query("migrate", "has_ledger")).fetchone()[0]:
        return {}
    rows = conn.execute(query("migrate", "applied")).fetchall()
    return {name: (checksum, at) for name, checksum, at in rows}


def _check_checksums(migrations: list[Migration], applied: dict[str, tuple[str, object]]) -> None:
    for m in migrations:
        if m.name in applied and applied[m.name][0] != m.checksum:
            raise MigrationError(
                f"migration {m.name} was edited after it was applied; add a new migration instead"
            )


def status(conn: psycopg.Connection, sql_dir: Path = SQL_DIR) -> list[MigrationState]:
    """Every migration with its applied time (None when pending); read-only."""
    migrations = discover(sql_dir)
    applied = _applied(conn)
    _check_checksums(migrations, applied)
    return [MigrationState(m, applied.get(m.name, (None, None))[1]) for m in migrations]


def pending(conn: psycopg.Connection, sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Migrations not yet applied; read-only."""
    return [s.migration for s in status(conn, sql_dir) if s.applied_at is None]


def apply_views(conn: psycopg.Connection, sql_dir: Path = SQL_DIR) -> list[str]:
    """(Re)creates every view in sql/views/ in filename order, in one transaction."""
    names = []
    with conn.transaction():
        for path in sorted((sql_dir / "views").glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
            names.append(path.stem)
    return names


def pending_at(url: str) -> list[Migration]:
    """The migrations not yet applied to the database at `url`."""
    with connect(url, autocommit=True) as conn:
        return pending(conn)


def status_at(url: str) -> list[MigrationState]:
    """Every migration's state in the database at `url`."""
    with connect(url, autocommit=True) as conn:
        return status(conn)


def migrate(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Applies pending migrations under an advisory lock, then the views; returns the names applied.

    A statement PostgreSQL refuses is a MigrationError naming the migration (nothing of it is kept).
    """
    done: list[str] = []
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(query("migrate", "ledger"))
            for m in pending(conn, sql_dir):
                try:
                    _apply(conn, m)
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {m.name} failed ({describe(exc)})") from None
                done.append(m.name)
            apply_views(conn, sql_dir)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return done


def _apply(conn: psycopg.Connection, m: Migration) -> None:
    """Runs one migration and records it in the ledger (in one transaction unless it opts out)."""
    text = m.path.read_text(encoding="utf-8")
    if m.transactional:
        with conn.transaction():
            conn.execute(text)
            conn.execute(query("migrate", "record"), (m.name, m.checksum))
    else:
        conn.execute(text)
        conn.execute(query("migrate", "record"), (m.name, m.checksum))
