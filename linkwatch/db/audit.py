"""The audit log: who searched, viewed, reviewed or exported what, appended in the caller's transaction,
hash-chained (migration 0009) so that an edit or a deletion is found by verify_chain()."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

from linkwatch.db.sql import query


def identity(conn: psycopg.Connection) -> str:
    """Who is acting: the role PostgreSQL authenticated this connection as (never a name typed on a
    command line: the two-person rule counts people)."""
    return conn.execute(query("audit", "identity")).fetchone()[0]


def audit(conn: psycopg.Connection, who: str, action: str, target: str | None, detail: dict) -> None:
    """Appends one audit_log row (the caller's transaction commits it)."""
    conn.execute(query("audit", "append"), {"actor": who, "action": action, "target": target,
                                            "detail": Jsonb(detail)})


@dataclass(frozen=True)
class ChainCheck:
    """What verify_chain() found: rows checked, and the first row where the chain breaks (if any)."""

    rows: int
    broken_at: int | None = None  # the chain position (chain_seq) of the first bad row
    reason: str = ""


def verify_chain(conn: psycopg.Connection) -> ChainCheck:
    """Recomputes every row's hash in append order: an edited row, a deleted one (a gap) or rows
    reordered break the chain where it happened."""
    rows = 0
    expected_prev: bytes | None = None
    with conn.cursor(name="lw_audit_chain") as cur:  # a server-side cursor: the log can be long
        cur.execute(query("audit", "chain"))
        for seq, prev, stored, computed in cur:
            rows += 1
            if seq != rows:
                return ChainCheck(rows, rows, f"entry {rows} is missing (the next one is {seq})")
            if (bytes(prev) if prev is not None else None) != expected_prev:
                return ChainCheck(rows, seq, f"entry {seq} does not follow entry {seq - 1}")
            if bytes(stored) != bytes(computed):
                return ChainCheck(rows, seq, f"entry {seq} was changed after it was written")
            expected_prev = bytes(stored)
    return ChainCheck(rows)
