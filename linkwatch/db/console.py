"""What the web console and API read beyond `linkwatch.db.links`: dashboard figures, runs, sources,
referrals, related links, evidence pages and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from linkwatch.db.sql import query

RELATIONS = ("title", "page", "thread")  # related links: same preview title, same page, same thread


def _rows(conn: psycopg.Connection, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("web", name), params or {}).fetchall()


def _row(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("web", name), params).fetchone()


def new_links_per_day(conn: psycopg.Connection, since: datetime, tz: str) -> list[tuple[date, str, int]]:
    """(day in zone `tz`, platform, new links) since `since`."""
    return [(r["day"], r["platform"], r["n"])
            for r in _rows(conn, "dashboard_per_day", {"since": since, "tz": tz})]


def link_counts(conn: psycopg.Connection) -> dict[str, Any]:
    """Links by triage status and by liveness, how many were ever referred and how many confirmed
    links wait for their first referral."""
    by_status: dict[str, int] = {}
    by_liveness: dict[str, int] = {}
    for r in _rows(conn, "dashboard_counts"):
        by_status[r["status"]] = by_status.get(r["status"], 0) + r["n"]
        by_liveness[r["liveness"]] = by_liveness.get(r["liveness"], 0) + r["n"]
    referred, awaiting = conn.execute(query("web", "dashboard_referred")).fetchone()
    return {"status": by_status, "liveness": by_liveness, "referred": referred,
            "awaiting_referral": awaiting, "total": sum(by_status.values())}


def sources(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return _rows(conn, "sources_list")


def runs(conn: psycopg.Connection, *, source: str | None = None, before: int | None = None,
         limit: int = 50) -> list[dict[str, Any]]:
    """Crawl runs newest first (ids below `before`), optionally of one source."""
    return _rows(conn, "runs_list", {"source": source, "before": before, "limit": limit})


def audit_entries(conn: psycopg.Connection, *, actor: str | None = None, action: str | None = None,
                  target: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  before: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Audit log rows newest first (ids below `before`), filtered."""
    return _rows(conn, "audit_list", {"actor": actor, "action": action, "target": target, "since": since,
                                      "until": until, "before": before, "limit": limit})


def audit_actions(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(query("web", "audit_actions"))]


def referrals(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every weekly referral, newest period first, with its files' digests and counts."""
    return _rows(conn, "referrals_list")


def referral(conn: psycopg.Connection, period: str) -> dict[str, Any] | None:
    return _row(conn, "referral_by_period", {"period": period})


def referral_items(conn: psycopg.Connection, period: str, *, after: str | None = None,
                   limit: int = 500) -> list[dict[str, Any]]:
    """A referral's links in referral-id order, after the referral id `after`."""
    return _rows(conn, "referral_items", {"period": period, "after": after, "limit": limit})


def takedown_by_platform(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The takedown figure per platform (referred, dead since, alive, median and p90 hours)."""
    return _rows(conn, "takedown_by_platform")


def link_is_referred(conn: psycopg.Connection, link_id: int) -> bool:
    return bool(conn.execute(query("web", "link_referred"), {"id": link_id}).fetchone()[0])


def page_is_referred(conn: psycopg.Connection, page_id: int) -> bool:
    """Whether the page advertises a referred link (what a regulator may open)."""
    return bool(conn.execute(query("web", "page_referred"), {"id": page_id}).fetchone()[0])


def page(conn: psycopg.Connection, page_id: int) -> dict[str, Any] | None:
    """A captured page's row (URL, digest, capture reference, source), or None."""
    return _row(conn, "page_meta", {"id": page_id})


def page_links(conn: psycopg.Connection, page_id: int) -> list[dict[str, Any]]:
    """The links seen on the page (at most 200)."""
    return _rows(conn, "page_links", {"id": page_id})


def related_links(conn: psycopg.Connection, link_id: int, preview_title: str | None,
                  limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """Links related to this one: same preview title, same page, same thread (each at most `limit`)."""
    out: dict[str, list[dict[str, Any]]] = {}
    params = {"id": link_id, "limit": limit, "title": preview_title}
    out["title"] = _rows(conn, "related_title", params) if preview_title else []
    out["page"] = _rows(conn, "related_page", params)
    seen = {r["id"] for r in out["page"]}
    out["thread"] = [r for r in _rows(conn, "related_thread", params) if r["id"] not in seen]
    return out


def review_state(conn: psycopg.Connection, link_id: int) -> dict[str, Any] | None:
    """The link's shown status and how many distinct reviewers' latest decision is confirm."""
    row = conn.execute(query("web", "link_status"), {"id": link_id}).fetchone()
    if row is None:
        return None
    confirmers = conn.execute(query("review", "confirmers"), {"id": link_id}).fetchall()
    return {"status": row[0], "confirmations": len(confirmers)}


def scheduler_activity(conn: psycopg.Connection) -> dict[str, Any]:
    """The scheduler's latest job start or end (its heartbeat) and how many jobs run now."""
    return _row(conn, "scheduler_activity", {}) or {"last_activity": None, "running": 0}
