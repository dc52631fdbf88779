"""The REST API under /api/v1: JSON, Bearer tokens, the same roles and audit as the pages; OpenAPI at
/api/v1/openapi.json with interactive docs at /api/v1/docs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, HTMLResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field

from linkwatch.db import console as read
from linkwatch.db import links as links_db
from linkwatch.db import triage
from linkwatch.db.audit import audit
from linkwatch.db.health import source_health
from linkwatch.db.migrate import pending
from linkwatch.errors import LinkwatchError
from linkwatch.jobs import review
from linkwatch.jobs.report import takedown
from linkwatch.web.access import evidence_for, link_for
from linkwatch.web.auth import Viewer, api_can, api_viewer
from linkwatch.web.errors import BadRequestError, NotFoundError
from linkwatch.web.filters import build_search, encode_cursor
from linkwatch.web.headers import CSP_DOCS
from linkwatch.web.jsonsafe import SafeJSONResponse
from linkwatch.web.referrals import manifest_name, referral_file
from linkwatch.web.state import Conn, console, log

router = APIRouter()

MAX_LIMIT = 1000


class Message(BaseModel):
    """Every error: one sentence, and the HTTP status again."""

    message: str
    status: int


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Message, "description": "A parameter cannot be used"},
    401: {"model": Message, "description": "No valid Bearer token"},
    403: {"model": Message, "description": "The token's role does not allow this"},
    404: {"model": Message, "description": "Not found"},
}


class LinkItem(BaseModel):
    id: int
    platform: str
    kind: str
    code: str
    url: str = Field(description="Canonical URL. Never open it from an investigator's browser.")
    first_seen: datetime
    last_seen: datetime
    sightings: int
    score: float
    status: str = Field(description="new, confirmed, dismissed or referred")
    category: str | None
    liveness: str
    checked_at: datetime | None
    preview_title: str | None
    member_count: int | None


class LinkPage(BaseModel):
    items: list[LinkItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Sighting(BaseModel):
    id: int
    seen_at: datetime
    raw: str = Field(description="The link as written on the page")
    obfuscated: bool
    found_in: str
    context: str
    page_id: int
    page_url: str
    page_title: str | None
    page_sha256: str
    page_fetched_at: datetime
    http_status: int | None
    source: str | None


class Check(BaseModel):
    checked_at: datetime
    result: str
    http_status: int | None
    title: str | None
    member_count: int | None
    detail: str | None


class Review(BaseModel):
    created_at: datetime
    reviewer: str
    decision: str
    category: str | None
    note: str | None


class LinkReferral(BaseModel):
    period: str
    ref: str
    reason: str
    referred_at: datetime


class LinkDetail(BaseModel):
    id: int
    platform: str
    kind: str
    code: str
    url: str
    first_seen: datetime
    last_seen: datetime
    score: float
    status: str
    category: str | None
    liveness: str
    checked_at: datetime | None
    dead_at: datetime | None
    preview_title: str | None
    preview_description: str | None
    member_count: int | None
    sightings: int = Field(description="How many posts advertised the link (the evidence list holds each)")
    evidence: list[Sighting] = Field(description="Every sighting with its page, oldest first")
    checks: list[Check]
    reviews: list[Review]
    referrals: list[LinkReferral]


class Evidence(BaseModel):
    page_id: int
    url: str
    title: str | None
    source: str | None
    fetched_at: datetime
    http_status: int | None
    content_type: str | None
    sha256: str = Field(description="sha256 of the captured body, checked against the page record and the "
                                    "WARC record's payload digest before anything is returned")
    verified: bool
    bytes: int
    truncated: bool = Field(description="The text covers the first 5 MB of a larger capture")
    removed: dict[str, int] = Field(description="Elements removed from the rendering, by name")
    text: str = Field(description="The page's visible text (scripts, styles and markup removed)")


class ReviewIn(BaseModel):
    decision: Literal["confirm", "dismiss"]
    category: str | None = Field(None, description=f"Required to confirm: {', '.join(review.CATEGORIES)}")
    note: str | None = Field(None, max_length=2000)


class ReviewResult(BaseModel):
    link_id: int
    decision: str
    status: str
    confirmations: int
    required: int


class Referral(BaseModel):
    period: str
    created_at: datetime
    updated_at: datetime
    files: dict[str, str] = Field(description="File name -> sha256")
    counts: dict[str, Any]


class ReferralItem(BaseModel):
    ref: str
    reason: str
    referred_at: datetime
    link_id: int
    platform: str
    kind: str
    code: str
    url: str
    category: str | None
    liveness: str
    checked_at: datetime | None
    dead_at: datetime | None
    preview_title: str | None
    member_count: int | None


class ReferralDetail(Referral):
    items: list[ReferralItem]
    next_cursor: str | None
    manifest: dict[str, Any] | None = Field(description="The manifest written with the files (if on this "
                                                        "host)")


class ReferralList(BaseModel):
    items: list[Referral]
    takedown: dict[str, Any] = Field(description="Takedown figures over every referral")
    takedown_by_platform: list[dict[str, Any]]


class Source(BaseModel):
    name: str
    enabled: bool
    adhoc: bool
    config: dict[str, Any]
    runs: int
    last_run_id: int | None
    last_run_started_at: datetime | None
    last_run_finished_at: datetime | None
    last_run_status: str | None
    flags: list[str]


class Run(BaseModel):
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    trigger: str
    pages: int
    links: int
    new_links: int
    errors: int
    bytes: int
    media_refused: int
    host: str | None


class RunPage(BaseModel):
    items: list[Run]
    next_cursor: str | None


def in_zone(value: Any, zone: Any) -> Any:
    """Every datetime in `value` in the configured zone (ISO 8601 with that offset in the JSON)."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {k: in_zone(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [in_zone(v, zone) for v in value]
    return value


@router.get("/links", response_model=LinkPage, responses=ERRORS, tags=["links"])
def list_links(
    request: Request,
    viewer: Annotated[Viewer, Depends(api_can("search"))],
    conn: Conn,
    platform: Annotated[list[str] | None, Query(description="telegram, discord, kakao…; repeatable")] = None,
    kind: Annotated[list[str] | None, Query(description="invite, public_channel, …; repeatable")] = None,
    status: Annotated[list[str] | None, Query(description="new, confirmed, dismissed, referred; "
                                                          "repeatable")] = None,
    since: Annotated[str | None, Query(description="Seen at or after: YYYY-MM-DD (in the configured zone) "
                                                   "or an ISO datetime")] = None,
    until: Annotated[str | None, Query(description="Seen before the end of this day, or before this "
                                                   "datetime")] = None,
    seen: Annotated[Literal["last", "first"], Query(description="Which date since/until compare")] = "last",
    source: Annotated[list[str] | None, Query(description="Seen on pages of this source; repeatable")] = None,
    text: Annotated[str | None, Query(description="In a sighting's context, the page title or the preview "
                                                  "title (any language, Korean included)")] = None,
    min_score: float | None = None,
    live: Annotated[bool, Query(description="Only links whose last check found them live")] = False,
    sort: Literal["score", "last-seen"] = "score",
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Any:
    """Links matching every filter given, one page at a time (the CLI's `linkwatch links`)."""
    zone = console(request).config.zone
    search = build_search(zone, platform=platform, kind=kind, status=status, since=since, until=until,
                          seen=seen, source=source, text=text, min_score=min_score, live=live, sort=sort,
                          limit=limit + 1, cursor=cursor)
    rows = links_db.search(conn, search.filters, viewer.name)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": in_zone(rows, zone),
            "next_cursor": encode_cursor(search.filters.sort, rows[-1]) if more else None}


@router.get("/links/{link_id}", response_model=LinkDetail, responses=ERRORS, tags=["links"])
def get_link(request: Request, link_id: int, viewer: Annotated[Viewer, Depends(api_viewer)],
             conn: Conn) -> Any:
    """One link with every sighting (and its evidence page), liveness check, review and referral.

    Regulators see only links that were referred."""
    return in_zone(link_for(conn, viewer, link_id), console(request).config.zone)


@router.post("/links/{link_id}/reviews", response_model=ReviewResult, responses={
    **ERRORS, 409: {"model": Message, "description": "Another analyst is triaging this link"}},
    tags=["links"])
def post_review(request: Request, link_id: int, body: Annotated[ReviewIn, Body()],
                viewer: Annotated[Viewer, Depends(api_can("review"))], conn: Conn) -> Any:
    """Records the caller's decision (analysts). A link is confirmed once LINKWATCH_REVIEWERS_REQUIRED
    distinct users confirm it; one dismissal dismisses it. Refused while another analyst holds the
    link in triage."""
    triage.require_free_or_mine(conn, viewer.name, link_id)
    outcome = review.decide(conn, link_id, body.decision, viewer.name, category=body.category,
                            note=(body.note or "").strip() or None,
                            required=console(request).config.reviewers_required)
    triage.release(conn, viewer.name, link_id)
    return {"link_id": outcome.link_id, "decision": outcome.decision, "status": outcome.status,
            "confirmations": outcome.confirmations, "required": outcome.required}


@router.get("/pages/{page_id}/evidence", response_model=Evidence, responses={
    **ERRORS, 409: {"model": Message, "description": "The capture is missing or fails its digest"}},
    tags=["evidence"])
def get_evidence(request: Request, page_id: int, viewer: Annotated[Viewer, Depends(api_viewer)],
                 conn: Conn) -> Any:
    """A captured page: metadata, digest (verified) and its visible text. Never its markup or media."""
    state = console(request)
    meta, capture, safe = evidence_for(state, conn, viewer, page_id, "api")
    content_type = next((v for k, v in capture.headers if k.lower() == "content-type"), meta["content_type"])
    return in_zone({
        "page_id": page_id, "url": meta["url"], "title": meta["title"], "source": meta["source"],
        "fetched_at": meta["fetched_at"], "http_status": capture.status or meta["http_status"],
        "content_type": content_type, "sha256": capture.sha256, "verified": True, "bytes": len(capture.body),
        "truncated": safe.truncated, "removed": safe.removed, "text": safe.text,
    }, state.config.zone)


@router.get("/referrals", response_model=ReferralList, responses=ERRORS, tags=["referrals"])
def list_referrals(request: Request, viewer: Annotated[Viewer, Depends(api_can("referrals"))],
                   conn: Conn) -> Any:
    """Every weekly referral with its files' sha256 and counts, and the takedown figures."""
    rows = read.referrals(conn)
    audit(conn, viewer.name, "view", "referrals", {"via": "api"})
    return in_zone({"items": rows, "takedown": takedown(conn),
                    "takedown_by_platform": read.takedown_by_platform(conn)}, console(request).config.zone)


@router.get("/referrals/{period}", response_model=ReferralDetail, responses=ERRORS, tags=["referrals"])
def get_referral(request: Request, period: str, viewer: Annotated[Viewer, Depends(api_can("referrals"))],
                 conn: Conn,
                 cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Any:
    """One week's referral: its links (in referral-id order, paged) and its manifest."""
    found = read.referral(conn, period)
    if found is None:
        raise NotFoundError(f"there is no referral for {period[:20]!r}")
    items = read.referral_items(conn, found["period"], after=cursor, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    manifest = None
    try:
        path, _digest, _media = referral_file(conn, found["period"], manifest_name(found["period"]))
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (NotFoundError, OSError, ValueError) as exc:
        log.info("referral %s: manifest not read (%s)", found["period"], exc.__class__.__name__)
    audit(conn, viewer.name, "view", found["period"], {"via": "api", "page": "referral"})
    return in_zone({**found, "items": items, "next_cursor": items[-1]["ref"] if more else None,
                    "manifest": manifest}, console(request).config.zone)


@router.get("/referrals/{period}/files/{name}", responses={
    **ERRORS, 200: {"content": {"application/octet-stream": {}}, "description": "The file"},
    409: {"model": Message, "description": "The file no longer matches its recorded sha256"}},
    response_class=FileResponse, tags=["referrals"])
def get_referral_file(period: str, name: str, viewer: Annotated[Viewer, Depends(api_can("referrals"))],
                      conn: Conn) -> Any:
    """One of the referral's files (CSV, XLSX, JSON lines, manifest), checked against its recorded
    sha256; the header X-Linkwatch-Sha256 carries the digest."""
    path, digest, media = referral_file(conn, period, name)
    audit(conn, viewer.name, "download", period, {"via": "api", "file": path.name, "sha256": digest})
    return FileResponse(path, media_type=media, filename=path.name,
                        headers={"x-linkwatch-sha256": digest, "cache-control": "no-store"})


@router.get("/sources", response_model=list[Source], responses=ERRORS, tags=["crawls"])
def list_sources(request: Request, viewer: Annotated[Viewer, Depends(api_can("sources"))],
                 conn: Conn) -> Any:
    """Every source with its settings, its last crawl and health flags (analysts)."""
    health = {h.name: h for h in source_health(conn, include_adhoc=True, reap=False)}
    out = []
    for row in read.sources(conn):
        h = health.get(row["name"])
        out.append({**row, "last_run_id": h.run_id if h else None,
                    "last_run_started_at": h.started_at if h else None,
                    "last_run_finished_at": h.finished_at if h else None,
                    "last_run_status": h.status if h else None, "flags": h.flags if h else []})
    audit(conn, viewer.name, "view", "sources", {"via": "api"})
    return in_zone(out, console(request).config.zone)


@router.get("/runs", response_model=RunPage, responses=ERRORS, tags=["crawls"])
def list_runs(request: Request, viewer: Annotated[Viewer, Depends(api_can("runs"))], conn: Conn,
              source: str | None = None,
              cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
              limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> Any:
    """Crawl runs, newest first, with their stats (analysts)."""
    if cursor is not None and not cursor.isdigit():
        raise BadRequestError("cursor: not one that linkwatch gave (start again without it)")
    rows = read.runs(conn, source=source, before=int(cursor) if cursor else None, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    audit(conn, viewer.name, "view", "runs", {"via": "api", "source": source})
    return in_zone({"items": rows, "next_cursor": str(rows[-1]["id"]) if more else None},
                   console(request).config.zone)


@router.get("/health", tags=["monitoring"], responses={503: {"description": "Something needs attention"}})
def health(request: Request) -> Any:
    """For monitoring, without a token: the database is reachable, the migrations are current, each
    source's last crawl, and the scheduler's last job (its heartbeat). 503 when the database is
    unreachable or migrations are pending."""
    state = console(request)
    zone = state.config.zone
    body: dict[str, Any] = {"status": "ok", "time": datetime.now(zone)}
    healthy = False
    try:
        with state.pool.connection(timeout=min(5.0, state.pool_timeout)) as conn:
            body["database"] = {"reachable": True}
            try:
                todo = [m.name for m in pending(conn)]
            except LinkwatchError as exc:  # an applied migration was edited: one sentence says so
                body["migrations"] = {"current": False, "message": str(exc)}
            else:
                body["migrations"] = {"current": not todo, "pending": todo}
            body["sources"] = [{"name": h.name, "enabled": h.enabled, "last_crawl": h.started_at,
                                "finished_at": h.finished_at, "status": h.status, "flags": h.flags}
                               for h in source_health(conn, reap=False)]
            body["scheduler"] = read.scheduler_activity(conn)
            healthy = body["migrations"]["current"]
            if not healthy:
                body["status"] = "migrations pending"
    except (PoolTimeout, psycopg.Error) as exc:  # monitoring wants an answer, not a stack trace
        log.warning("health: database check failed (%s)", exc.__class__.__name__)
        body.update(status="database unreachable", database={"reachable": False})
    return SafeJSONResponse(jsonable_encoder(in_zone(body, zone)), status_code=200 if healthy else 503)


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI, served from the console's own static files (no CDN)."""
    body = console(request).templates.get_template("api_docs.html").render()
    return HTMLResponse(body, headers={"content-security-policy": CSP_DOCS})
