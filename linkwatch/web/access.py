"""Who may see which link and which evidence, shared by the pages and the API; every view is audited."""

from __future__ import annotations

from typing import Any

import psycopg

from linkwatch.db import console as read
from linkwatch.db import links as links_db
from linkwatch.db.audit import audit
from linkwatch.db.warc import Capture, read_page_capture
from linkwatch.web.auth import Viewer
from linkwatch.web.errors import ForbiddenError, NotFoundError
from linkwatch.web.evidence import SafePage, sanitise
from linkwatch.web.state import Console


def confirmations(reviews: list[dict[str, Any]]) -> int:
    """Distinct reviewers whose latest decision is confirm (what the N-reviewer rule counts)."""
    latest: dict[str, str] = {}
    for r in reviews:  # oldest first
        latest[r["reviewer"]] = r["decision"]
    return sum(1 for d in latest.values() if d == "confirm")


def link_for(conn: psycopg.Connection, viewer: Viewer, link_id: int) -> dict[str, Any]:
    """The link with its evidence lists (audited), if this viewer may see it."""
    if viewer.can("link"):
        return links_db.show(conn, link_id, viewer.name)
    if not (viewer.can("referred_link") and read.link_is_referred(conn, link_id)):
        raise ForbiddenError(f"your role ({viewer.role}) shows only links that were referred")
    link = links_db.show(conn, link_id, viewer.name)
    # Who decided and their notes stay inside the monitoring team: the regulator gets the link, its
    # evidence, checks and referrals.
    link["reviews"] = []
    return link


def evidence_for(state: Console, conn: psycopg.Connection, viewer: Viewer, page_id: int,
                 view: str) -> tuple[dict[str, Any], Capture, SafePage]:
    """The page row, its digest-checked capture and its sanitised rendering (audited)."""
    if not viewer.can("evidence") and not (viewer.can("referred_link")
                                           and read.page_is_referred(conn, page_id)):
        raise ForbiddenError(f"your role ({viewer.role}) shows only the evidence of referred links")
    meta = read.page(conn, page_id)
    if meta is None:
        raise NotFoundError(f"there is no page with id {page_id}")
    capture = read_page_capture(conn, state.config.data_dir, page_id)
    content_type = next((v for k, v in capture.headers if k.lower() == "content-type"), meta["content_type"])
    safe = sanitise(capture.body, content_type)
    audit(conn, viewer.name, "evidence", str(page_id), {"via": viewer.via, "view": view,
                                                        "sha256": capture.sha256})
    return meta, capture, safe
