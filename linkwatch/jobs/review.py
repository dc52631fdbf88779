"""Analyst triage: records confirm/dismiss decisions and applies the N-distinct-reviewers rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from linkwatch.db.audit import audit
from linkwatch.db.sql import query
from linkwatch.errors import LinkwatchError

# The category vocabulary shared with the referral export: key -> (Korean, English) label.
CATEGORIES: dict[str, tuple[str, str]] = {
    "deepfake_sexual": ("성적 허위영상물(딥페이크)", "sexual deepfake"),
    "csam_suspected": ("아동·청소년 성착취물 의심", "suspected child sexual abuse material"),
    "nonconsensual": ("불법촬영·비동의 유포물", "non-consensual intimate imagery"),
    "sexual_other": ("기타 성적 착취물", "other sexual exploitation"),
    "other": ("기타", "other"),
}
DECISIONS = ("confirm", "dismiss")


class ReviewError(LinkwatchError, ValueError):
    """Raised by decide() for an unknown link, decision or category; the message is for the user."""


@dataclass(frozen=True)
class Outcome:
    """What one decision did: the link's status afterwards and the confirmations counted."""

    link_id: int
    decision: str
    status: str
    confirmations: int
    required: int

    def describe(self) -> str:
        if self.decision == "dismiss":
            return f"link {self.link_id}: dismiss recorded; status {self.status}"
        if self.status in ("confirmed", "referred"):
            return f"link {self.link_id}: {self.status} ({self.confirmations}/{self.required} reviewers)"
        return (
            f"link {self.link_id}: confirmation {self.confirmations} of {self.required} recorded; "
            f"status stays {self.status}"
        )


def validate_category(category: str | None, decision: str) -> str | None:
    """The category key, checked against the vocabulary (required when confirming)."""
    if decision == "confirm":
        if not category:
            raise ReviewError(f"confirming needs --category, one of: {', '.join(CATEGORIES)}")
        if category not in CATEGORIES:
            raise ReviewError(f"unknown category {category!r}; use one of: {', '.join(CATEGORIES)}")
    return category if decision == "confirm" else None


def decide(
    conn: psycopg.Connection,
    link_id: int,
    decision: str,
    reviewer: str,
    *,
    category: str | None = None,
    note: str | None = None,
    required: int = 1,
) -> Outcome:
    """Records one reviewer's decision on a link and updates its status, in one transaction.

    A link becomes confirmed once `required` distinct reviewers' latest decision is confirm; one
    dismiss dismisses it. A referred link keeps its status (the decision is still recorded).
    """
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}")
    category = validate_category(category, decision)
    required = max(1, required)
    with conn.transaction():
        row = conn.execute(query("review", "lock_link"), {"id": link_id}).fetchone()
        if row is None:
            raise ReviewError(f"no link with id {link_id}")
        status = row[0]
        conn.execute(query("review", "insert"), {"id": link_id, "reviewer": reviewer, "decision": decision,
                                                "category": category, "note": note})
        confirmers = conn.execute(query("review", "confirmers"), {"id": link_id}).fetchall()
        new_status = status
        if status != "referred":
            if decision == "dismiss":
                new_status = "dismissed"
            elif len(confirmers) >= required:
                new_status = "confirmed"
        if new_status != status or (new_status == "confirmed" and decision == "confirm"):
            conn.execute(query("review", "set_status"), {
                "id": link_id, "status": new_status,
                "category": category if new_status == "confirmed" else None})
        outcome = Outcome(link_id, decision, new_status, len(confirmers), required)
        audit(conn, reviewer, "review", str(link_id), {
            "decision": decision, "category": category, "note": note, "status_before": status,
            "status_after": new_status, "confirmations": len(confirmers), "required": required,
        })
    return outcome


def queue(conn: psycopg.Connection, reviewer: str, limit: int = 100) -> list[dict[str, Any]]:
    """New links this reviewer has not decided on yet, highest score first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("review", "queue"), {"reviewer": reviewer, "limit": limit}).fetchall()


def where_seen(conn: psycopg.Connection, link_id: int, limit: int = 3) -> list[dict[str, Any]]:
    """The link's most recent sightings (context, page URL, source)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("review", "where_seen"), {"id": link_id, "limit": limit}).fetchall()


def note_only(conn: psycopg.Connection, link_id: int, reviewer: str, note: str) -> None:
    """Keeps a note on a link without a decision (reviews hold only decisions)."""
    with conn.transaction():
        audit(conn, reviewer, "note", str(link_id), {"note": note})


def record_skip(conn: psycopg.Connection, link_id: int, reviewer: str, note: str | None = None) -> None:
    """A reviewer looked at a link and passed it over: a human action, so it is in the audit log."""
    with conn.transaction():
        audit(conn, reviewer, "skip", str(link_id), {"note": note} if note else {})
