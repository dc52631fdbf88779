"""`db check`: what a manual edit could have broken, counted (orphaned sightings, the search-copy queue)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from linkwatch.db.sql import query
from linkwatch.db.text_index import queued


@dataclass(frozen=True)
class Integrity:
    """What `db check` found."""

    without_link: int
    without_page: int
    queued_ranges: int


def check_integrity(conn: psycopg.Connection) -> Integrity:
    """Counts sightings whose link or page is gone and the ranges waiting for the search copy."""
    without_link, without_page = conn.execute(query("db", "orphans")).fetchone()
    return Integrity(without_link, without_page, queued(conn))
