"""The audit log a regulator can trust: append-only whoever asks, tamper-evident through its hash chain."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.db.audit import audit, verify_chain
from linkwatch.db.migrate import migrate
from tests.utils.migrations import sql_before


def write(url: str, n: int, who: str = "tester") -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(n):
            audit(conn, who, "query", None, {"i": i, "text": "딥페이크"})


def check(url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", url, "db", "check"])
    return result.exit_code, result.output


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'someone-else'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
])
def test_no_credential_may_change_it(db: str, role_url, statement: str) -> None:
    write(db, 3)
    analyst = role_url("analyst")
    for url in (db, analyst):  # the application's own (owner, superuser here) and an analyst's
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 3
        assert verify_chain(conn).broken_at is None


def test_db_check_finds_an_entry_changed_or_deleted_behind_the_triggers(db: str) -> None:
    write(db, 5)
    code, output = check(db)
    assert code == 0, output
    assert "audit log ok: 5 entries, hash chain intact" in output
    with psycopg.connect(db, autocommit=True) as conn:  # a superuser switching the triggers off
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE audit_log SET actor = 'covered-up' WHERE chain_seq = 3")
    code, output = check(db)
    assert code == 1
    assert "hash chain is broken: entry 3 was changed after it was written" in output
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM audit_log WHERE chain_seq >= 3")
        conn.execute("SET session_replication_role = origin")
        audit(conn, "tester", "query", None, {})  # appending continues the chain from entry 2…
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM audit_log WHERE chain_seq = 2")  # …and a deleted entry is a gap
    code, output = check(db)
    assert code == 1
    assert "entry 2 is missing" in output


def test_concurrent_writers_keep_one_chain(db: str) -> None:
    threads = [threading.Thread(target=write, args=(db, 20, f"w{n}")) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with psycopg.connect(db) as conn:
        result = verify_chain(conn)
        seqs = [r[0] for r in conn.execute("SELECT chain_seq FROM audit_log ORDER BY chain_seq")]
    assert result.broken_at is None
    assert result.rows == 80
    assert seqs == list(range(1, 81))


def test_rows_written_before_the_migration_are_chained_by_it(empty_db: str, tmp_path: Path) -> None:
    migrate(empty_db, sql_before(tmp_path, "0009"))
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for i in range(4):
            conn.execute("INSERT INTO audit_log (actor, action, detail) VALUES ('old', 'query', %s)",
                         (psycopg.types.json.Jsonb({"i": i}),))
    migrate(empty_db)
    write(empty_db, 2)
    with psycopg.connect(empty_db) as conn:
        result = verify_chain(conn)
    assert (result.rows, result.broken_at) == (6, None)
