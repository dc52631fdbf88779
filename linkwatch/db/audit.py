"""The audit log: who searched, viewed, reviewed or exported what, appended in the caller's transaction."""

from __future__ import annotations

import getpass

import psycopg
from psycopg.types.json import Jsonb

from linkwatch.db.sql import query


def actor(name: str | None) -> str:
    """Who is acting: the name given, else the OS user."""
    return name.strip() if name and name.strip() else getpass.getuser()


def audit(conn: psycopg.Connection, who: str, action: str, target: str | None, detail: dict) -> None:
    """Appends one audit_log row (the caller's transaction commits it)."""
    conn.execute(query("audit", "append"), {"actor": who, "action": action, "target": target,
                                            "detail": Jsonb(detail)})
