"""The migration runner against real PostgreSQL: from empty, re-run, ledger checksums."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from linkwatch.db.migrate import MigrationError, discover, migrate, pending, status
from linkwatch.db.sql import SQL_DIR


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


EXPECTED_TABLES = {
    "sources", "crawl_runs", "pages", "links", "sightings", "link_checks", "reviews", "referrals",
    "referral_items", "audit_log", "schema_migrations",
}


def test_from_empty_then_rerun(empty_db: str) -> None:
    applied = migrate(empty_db)
    assert applied == [m.name for m in discover()]
    with psycopg.connect(empty_db) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables >= EXPECTED_TABLES
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(applied)
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
    assert migrate(empty_db) == []


def test_uniqueness_is_enforced_by_the_schema(db: str) -> None:
    with psycopg.connect(db) as conn:
        conn.execute(
            "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen) "
            "VALUES ('telegram', 'invite', 'FAKE1', 'https://t.me/+FAKE1', now(), now())"
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen) "
                "VALUES ('telegram', 'invite', 'FAKE1', 'https://t.me/+FAKE1', now(), now())"
            )


def test_two_migrators_race_safely(empty_db: str) -> None:
    import threading

    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_db))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, len(discover())]  # exactly one did the work
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(discover())


def test_a_failing_migration_leaves_no_trace(empty_db: str, tmp_path: Path) -> None:
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    (copy / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (x int);\nSELECT no_such_function();\n", encoding="utf-8"
    )
    with pytest.raises(MigrationError, match=r"9999_broken failed .*no_such_function"):
        migrate(empty_db, copy)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
        names = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
        assert "9999_broken" not in names
        assert [m.name for m in pending(conn, copy)] == ["9999_broken"]


def test_cli_migrate_dry_run_status(empty_db: str) -> None:
    from click.testing import CliRunner

    from linkwatch.cli import main

    runner = CliRunner()
    dry = runner.invoke(main, ["--database-url", empty_db, "db", "migrate", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would apply 0001_initial" in dry.output
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('links')").fetchone()[0] is None
    before = runner.invoke(main, ["--database-url", empty_db, "db", "status"])
    assert "0001_initial  pending" in before.output
    done = runner.invoke(main, ["--database-url", empty_db, "db", "migrate"])
    assert done.exit_code == 0, done.output
    assert "applied 0001_initial" in done.output
    after = runner.invoke(main, ["--database-url", empty_db, "db", "status"])
    assert after.exit_code == 0
    assert "0001_initial  applied 20" in after.output
    assert f"{len(discover())} applied, 0 pending" in after.output


def test_cli_errors_are_one_sentence(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from linkwatch.cli import main

    url = "postgresql://nobody@127.0.0.1:1/x"
    result = CliRunner().invoke(main, ["--database-url", url, "db", "status"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot connect to PostgreSQL")
    assert "Traceback" not in result.output
