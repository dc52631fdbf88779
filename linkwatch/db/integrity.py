"""`db check`: what a manual edit could have broken, counted (orphaned sightings, the search-copy queue)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from linkwatch.db.audit import ChainCheck, verify_chain
from linkwatch.db.sql import query
from linkwatch.db.text_index import queued


@dataclass(frozen=True)
class Integrity:
    """What `db check` found."""

    without_link: int
    without_page: int
    queued_ranges: int
    audit: ChainCheck | None  # None: this role may not read the audit log


def check_integrity(conn: psycopg.Connection) -> Integrity:
    """Counts sightings whose link or page is gone and the ranges waiting for the search copy, and
    verifies the audit log's hash chain."""
    without_link, without_page = conn.execute(query("db", "orphans")).fetchone()
    waiting = queued(conn)
    try:
        with conn.transaction():
            chain: ChainCheck | None = verify_chain(conn)
    except psycopg.errors.InsufficientPrivilege:
        chain = None
    return Integrity(without_link, without_page, waiting, chain)
