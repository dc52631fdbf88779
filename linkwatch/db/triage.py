"""Triage claims: one analyst at a time per link, by FOR UPDATE SKIP LOCKED and a lease that expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from linkwatch.db.sql import query
from linkwatch.errors import LinkwatchError

LEASE_SECONDS = 600  # renewed every time the analyst's page loads; ten idle minutes free the link
SKIP_SECONDS = 8 * 3600  # a skipped link comes back to the same analyst after a shift
CLAIM_ATTEMPTS = 3  # a claim that lost a race (see triage_claim_next.sql) is tried again


class ClaimError(LinkwatchError):
    """Raised when a link is held by another analyst (or no longer needs this analyst's decision)."""


@dataclass(frozen=True)
class Holder:
    reviewer: str
    expires_at: datetime


def holder(conn: psycopg.Connection, link_id: int) -> Holder | None:
    """Who holds a live claim on the link, if anyone."""
    row = conn.execute(query("web", "triage_holder"), {"link_id": link_id}).fetchone()
    return Holder(row[0], row[1]) if row else None


def current_or_next(conn: psycopg.Connection, reviewer: str,
                    lease_seconds: int = LEASE_SECONDS) -> int | None:
    """The link this analyst holds (renewed), else a newly claimed one; None when the queue is empty."""
    params = {"reviewer": reviewer, "lease_seconds": lease_seconds, "skip_seconds": SKIP_SECONDS}
    with conn.transaction():
        row = conn.execute(query("web", "triage_current"), params).fetchone()
        if row is not None:
            conn.execute(query("web", "triage_release_mine"), {"reviewer": reviewer, "keep": row[0]})
            return int(row[0])
        conn.execute(query("web", "triage_release_mine"), {"reviewer": reviewer, "keep": None})
    for _ in range(CLAIM_ATTEMPTS):
        with conn.transaction():
            row = conn.execute(query("web", "triage_claim_next"), params).fetchone()
        if row is not None:
            return int(row[0])
    return None


def claim(conn: psycopg.Connection, reviewer: str, link_id: int, lease_seconds: int = LEASE_SECONDS) -> None:
    """Claims one link for this analyst (releasing their other claim); ClaimError if it is not theirs."""
    params = {"reviewer": reviewer, "link_id": link_id, "lease_seconds": lease_seconds}
    with conn.transaction():
        row = conn.execute(query("web", "triage_claim_link"), params).fetchone()
        if row is None:
            held = holder(conn, link_id)
            if held is not None and held.reviewer != reviewer:
                raise ClaimError(f"link {link_id} is being triaged by {held.reviewer}")
            raise ClaimError(f"link {link_id} does not need your decision (not new, or already decided "
                             "by you)")
        conn.execute(query("web", "triage_release_mine"), {"reviewer": reviewer, "keep": link_id})


def require_free_or_mine(conn: psycopg.Connection, reviewer: str, link_id: int) -> None:
    """ClaimError unless the link is unclaimed or claimed by this analyst: a decision on a link that
    another analyst holds is refused, so two people never review one link at the same time."""
    held = holder(conn, link_id)
    if held is not None and held.reviewer != reviewer:
        raise ClaimError(f"link {link_id} is being triaged by {held.reviewer}; your decision was not "
                         "recorded")


def release(conn: psycopg.Connection, reviewer: str, link_id: int) -> None:
    conn.execute(query("web", "triage_release"), {"reviewer": reviewer, "link_id": link_id})


def skip(conn: psycopg.Connection, reviewer: str, link_id: int) -> None:
    """Releases the link and keeps it out of this analyst's queue for a while."""
    with conn.transaction():
        conn.execute(query("web", "triage_skip"), {"reviewer": reviewer, "link_id": link_id})
        release(conn, reviewer, link_id)


def queue(conn: psycopg.Connection, reviewer: str, limit: int = 20) -> list[dict[str, Any]]:
    """The head of the analyst's queue with each link's current holder (`claimed_by`) and `skipped`."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("web", "triage_queue"), {
            "reviewer": reviewer, "limit": limit, "skip_seconds": SKIP_SECONDS}).fetchall()


def queue_size(conn: psycopg.Connection, reviewer: str, cap: int = 1000) -> int:
    """New links this analyst has not decided on, counted up to `cap`."""
    return int(conn.execute(query("web", "triage_size"), {"reviewer": reviewer, "cap": cap}).fetchone()[0])
