"""Applies sql/migrations/*.sql in order, recording each in a checksummed ledger, then sql/views/*.sql."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

from crawler.config import SQL_DIR

# Any constant works; it only has to be the same for every migrator.
MIGRATION_LOCK_KEY = 0x6C696E6B  # "link"
NO_TRANSACTION_MARK = "-- migrate: no-transaction"

LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name        text PRIMARY KEY,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """Raised by migrate()/status() when an applied migration file was edited afterwards."""


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
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute("SELECT name, checksum, applied_at FROM schema_migrations").fetchall()
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


def migrate(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Applies pending migrations under an advisory lock, then the views; returns the names applied."""
    done: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(LEDGER)
            for m in pending(conn, sql_dir):
                text = m.path.read_text(encoding="utf-8")
                if m.transactional:
                    with conn.transaction():
                        conn.execute(text)
                        conn.execute(
                            "INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                            (m.name, m.checksum),
                        )
                else:
                    conn.execute(text)
                    conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                        (m.name, m.checksum),
                    )
                done.append(m.name)
            apply_views(conn, sql_dir)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return done
