"""The console's pages: login, dashboard, links, a link, evidence, triage, sources, runs, referrals, audit,
users. Every page is server-rendered; every action is audited under the logged-in user."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse

from linkwatch.db import console as read
from linkwatch.db import links as links_db
from linkwatch.db import triage, users
from linkwatch.db.audit import audit
from linkwatch.db.health import source_health
from linkwatch.extract.platforms import PLATFORMS
from linkwatch.jobs import review
from linkwatch.jobs.report import takedown
from linkwatch.text import for_cell
from linkwatch.web.access import confirmations, evidence_for, link_for
from linkwatch.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Viewer,
    check_csrf,
    form_can,
    page_can,
    page_viewer,
    safe_next,
    same_origin,
)
from linkwatch.web.errors import BadRequestError, NotFoundError, TooManyAttemptsError
from linkwatch.web.evidence import style_hash
from linkwatch.web.filters import Search, build_search, encode_cursor, query_items
from linkwatch.web.referrals import referral_file
from linkwatch.web.render import render
from linkwatch.web.state import Conn, Console, console

router = APIRouter(include_in_schema=False)

# Dependencies as types: who may open a page or send a form (see auth.PERMISSIONS).
FormText = Annotated[str, Form()]
Anyone = Annotated[Viewer, Depends(page_viewer)]
CanAudit = Annotated[Viewer, Depends(page_can("audit"))]
CanDashboard = Annotated[Viewer, Depends(page_can("dashboard"))]
CanExport = Annotated[Viewer, Depends(page_can("export"))]
CanReferrals = Annotated[Viewer, Depends(page_can("referrals"))]
CanRuns = Annotated[Viewer, Depends(page_can("runs"))]
CanSearch = Annotated[Viewer, Depends(page_can("search"))]
CanSources = Annotated[Viewer, Depends(page_can("sources"))]
CanTriage = Annotated[Viewer, Depends(page_can("triage"))]
CanUsers = Annotated[Viewer, Depends(page_can("users"))]
FormAnyone = Annotated[Viewer, Depends(form_can())]
FormReview = Annotated[Viewer, Depends(form_can("review"))]
FormTriage = Annotated[Viewer, Depends(form_can("triage"))]
FormUsers = Annotated[Viewer, Depends(form_can("users"))]

PAGE_SIZES = (25, 50, 100, 200)
PLATFORM_NAMES = sorted({p.name for p in PLATFORMS})
EXPORT_MAX = 50_000  # rows in one CSV / JSON lines download
EXPORT_PAGE = 1_000
SOURCE_VIEW_MAX = 512 * 1024  # characters of a capture's source shown inline
CHART_DAYS = 30
NAV = (  # (permission, path, label)
    ("dashboard", "/", "Dashboard"),
    ("search", "/links", "Links"),
    ("triage", "/triage", "Triage"),
    ("sources", "/sources", "Sources"),
    ("runs", "/runs", "Runs"),
    ("referrals", "/referrals", "Referrals"),
    ("audit", "/audit", "Audit log"),
    ("users", "/users", "Users"),
)


def page(request: Request, template: str, viewer: Viewer | None, /, *, status: int = 200,
         **context: Any) -> HTMLResponse:
    """A rendered page with the navigation the viewer's role allows."""
    state = console(request)
    nav = [(path, label) for perm, path, label in NAV if viewer is not None and viewer.can(perm)]
    body = render(state.templates, template, viewer=viewer, nav=nav, path=request.url.path,
                  csrf=viewer.csrf if viewer else None, **context)
    return HTMLResponse(body, status_code=status)


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "-"


# -- login ------------------------------------------------------------------------------------------

def login_form(request: Request, *, error: str | None = None, status: int = 200, name: str = "",
               next_path: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", None, status=status, title="Log in", login_csrf=token,
                    error=error, name=name, next_path=safe_next(next_path))
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/login")
def login_page(*, request: Request, next: str = "/", conn: Conn) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    state = console(request)
    if token and users.session_for(conn, token, state.session_idle_seconds, state.session_absolute_seconds):
        return redirect(safe_next(next))
    return login_form(request, next_path=next)


@router.post("/login")
def login(*, request: Request, name: FormText = "", password: FormText = "", csrf: FormText = "",
          next: FormText = "/", conn: Conn) -> Response:
    same_origin(request)
    check_csrf(request.cookies.get(LOGIN_COOKIE), csrf)
    state = console(request)
    address = client_address(request)
    name = name.strip()[:64]
    actor = name.lower() if users.NAME_RE.match(name.lower()) else "(invalid name)"
    try:
        state.limiter.check(name, address)
    except TooManyAttemptsError:
        audit(conn, actor, "login_failed", None, {"address": address, "reason": "rate limited", "via": "web"})
        raise
    user = users.authenticate(conn, name, password) if name and password else None
    if user is None:
        state.limiter.failed(name, address)
        audit(conn, actor, "login_failed", None, {"address": address, "reason": "wrong name or password",
                                                   "via": "web"})
        return login_form(request, error="wrong user name or password", status=401, name=name, next_path=next)
    state.limiter.succeeded(name)
    users.purge_sessions(conn)  # expired sessions of anyone: cheap, and keeps the table small
    token, _session = users.create_session(conn, user, state.session_idle_seconds)
    audit(conn, user.name, "login", None, {"address": address, "via": "web"})
    response = redirect(safe_next(next))
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(*, request: Request, viewer: FormAnyone, conn: Conn) -> Response:
    users.end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
    audit(conn, viewer.name, "logout", None, {"via": "web"})
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for it on their own; the pages name /static/favicon.svg.
    return RedirectResponse("/static/favicon.svg", status_code=301)


# -- dashboard --------------------------------------------------------------------------------------

def chart(rows: list[tuple[Any, str, int]], zone: Any, days: int = CHART_DAYS) -> dict[str, Any]:
    """Stacked bars of new links per day and platform, as SVG geometry (the page draws no script)."""
    today = datetime.now(zone).date()
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    platforms = sorted({r[1] for r in rows})
    per_day: dict[Any, dict[str, int]] = {d: {} for d in span}
    for day, platform, n in rows:
        if day in per_day:
            per_day[day][platform] = n
    top = max([sum(v.values()) for v in per_day.values()] + [1])
    width, height, gap = 24, 140, 4
    bars = []
    for i, day in enumerate(span):
        y = height
        for platform in platforms:
            n = per_day[day].get(platform, 0)
            if not n:
                continue
            h = max(1.0, n / top * height)
            y -= h
            bars.append({"x": i * (width + gap), "y": round(y, 1), "w": width, "h": round(h, 1),
                         "platform": platform, "day": day, "n": n})
    totals = [(day, sum(per_day[day].values())) for day in span]
    return {"bars": bars, "platforms": platforms, "top": top, "width": days * (width + gap),
            "height": height, "totals": totals, "first": span[0], "last": span[-1],
            "sum": sum(t for _, t in totals)}


def dashboard_figures(conn: psycopg.Connection, zone: Any) -> dict[str, Any]:
    """The dashboard's counts, new links per day and takedown figures (a pass over every link)."""
    midnight = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    since = midnight - timedelta(days=CHART_DAYS - 1)
    per_day = read.new_links_per_day(conn, since, zone.key)
    return {"counts": read.link_counts(conn), "chart": chart(per_day, zone), "takedown": takedown(conn),
            "takedown_platforms": read.takedown_by_platform(conn)}


DASHBOARD_SECONDS = 60


@router.get("/")
def dashboard(*, request: Request, viewer: CanDashboard, conn: Conn) -> HTMLResponse:
    state = console(request)
    zone = state.config.zone
    # The same for everyone and a full pass over links at a million rows: served from a cache that
    # is refreshed in the background (the console computes it once at start).
    figures = state.cached("dashboard", DASHBOARD_SECONDS, lambda c: dashboard_figures(c, zone), conn)
    return page(request, "dashboard.html", viewer, title="Dashboard", **figures,
                health=source_health(conn, reap=False), required=state.config.reviewers_required)


# -- links ------------------------------------------------------------------------------------------

def search_from(request: Request, *, limit: int) -> Search:
    """The search in the page's query string (the form's fields; a field may hold values, comma-separated)."""
    q = request.query_params
    sources = [part for value in q.getlist("source") for part in value.split(",")]
    return build_search(
        console(request).config.zone, platform=q.getlist("platform"), kind=q.getlist("kind"),
        status=q.getlist("status"), since=q.get("since"), until=q.get("until"), seen=q.get("seen"),
        source=sources, text=q.get("text"), min_score=q.get("min_score"), live=q.get("live"),
        sort=q.get("sort"), limit=limit, cursor=q.get("cursor"),
    )


def page_size(request: Request) -> int:
    raw = request.query_params.get("limit") or "50"
    if not raw.isdigit() or int(raw) not in PAGE_SIZES:
        raise BadRequestError(f"limit: use one of {', '.join(map(str, PAGE_SIZES))}")
    return int(raw)


@router.get("/links")
def links_page(*, request: Request, viewer: CanSearch,
               conn: Conn) -> HTMLResponse:
    size = page_size(request)
    search = search_from(request, limit=size + 1)  # one more tells whether there is a next page
    search.form["limit"] = size
    rows = links_db.search(conn, search.filters, viewer.name)
    more = len(rows) > size
    rows = rows[:size]
    next_query = (query_items(search.form, cursor=encode_cursor(search.filters.sort, rows[-1]))
                  if more else None)
    sort_query = {sort: query_items(search.form, sort=sort) for sort in links_db.SORTS}
    return page(request, "links.html", viewer, title="Links", rows=rows, form=search.form,
                sort_query=sort_query,
                next_query=next_query, first_query=query_items(search.form), paged=bool(search.filters.after),
                page_sizes=PAGE_SIZES, statuses=links_db.STATUSES, platforms=PLATFORM_NAMES)


EXPORT_COLUMNS = ("id", "platform", "kind", "code", "url", "first_seen", "last_seen", "sightings", "score",
                  "status", "category", "liveness", "checked_at", "preview_title", "member_count")


def export_rows(state: Console, filters: links_db.LinkFilters, who: str, fmt: str) -> Iterator[str]:
    """The search's rows as CSV or JSON lines, EXPORT_PAGE at a time, then one audit entry.

    Its own pooled connection: the response streams after the request's dependencies are done.
    """
    zone = state.config.zone

    def value(v: Any) -> Any:
        return v.astimezone(zone).isoformat() if isinstance(v, datetime) else v

    count = 0
    with state.pool.connection(timeout=state.pool_timeout) as conn:
        conn.execute("SET jit = off")
        probe = bool(filters.text) and (links_db.expected_text_matches(conn, filters.text)
                                        > links_db.PROBE_TEXT_ABOVE)
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            buffer.write("\ufeff")  # spreadsheet programs read the Korean text right with a BOM
            writer.writerow(EXPORT_COLUMNS)
        while count < EXPORT_MAX:
            filters.limit = min(EXPORT_PAGE, EXPORT_MAX - count)
            statement, params = links_db.build_search(filters, probe_text=probe)
            with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
                rows = cur.execute(statement, params).fetchall()
            for row in rows:
                if fmt == "csv":
                    # Spreadsheet-safe cells: a crawled "=cmd|..." is text, not a formula.
                    writer.writerow([for_cell(v) if isinstance(v, str) else "" if v is None else value(v)
                                     for v in (row.get(k) for k in EXPORT_COLUMNS)])
                else:
                    yield json.dumps({k: value(v) for k, v in row.items()}, ensure_ascii=False) + "\n"
            if fmt == "csv":
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            count += len(rows)
            if len(rows) < filters.limit:
                break
            filters.after = (rows[-1]["score"] if filters.sort == "score" else rows[-1]["last_seen"],
                             rows[-1]["id"])
        audit(conn, who, "export", None, {"via": "web", "format": fmt, "filters": filters.describe(),
                                          "rows": count})


@router.get("/links/export.{fmt}")
def links_export(*, request: Request, fmt: str, viewer: CanExport) -> Response:
    if fmt not in ("csv", "jsonl"):
        raise NotFoundError("downloads are .csv or .jsonl")
    search = search_from(request, limit=EXPORT_PAGE)
    search.filters.after = None  # a download is the whole result, from its first row
    state = console(request)
    stamp = datetime.now(state.config.zone).strftime("%Y%m%d-%H%M")
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson; charset=utf-8"
    return StreamingResponse(export_rows(state, search.filters, viewer.name, fmt), media_type=media,
                             headers={"content-disposition":
                                      f'attachment; filename="linkwatch-links-{stamp}.{fmt}"'})


@router.get("/links/{link_id}")
def link_page(*, request: Request, link_id: int, viewer: Anyone,
              conn: Conn) -> HTMLResponse:
    link = link_for(conn, viewer, link_id)
    related = read.related_links(conn, link_id, link["preview_title"]) if viewer.can("link") else {}
    held = triage.holder(conn, link_id)
    return page(request, "link.html", viewer, title=f"Link {link_id}", link=link, related=related,
                holder=held, confirmations=confirmations(link["reviews"]),
                required=console(request).config.reviewers_required, categories=review.CATEGORIES)


@router.post("/links/{link_id}/reviews")
def link_review(*, request: Request, link_id: int, decision: FormText, category: FormText = "",
                note: FormText = "", viewer: FormReview,
                conn: Conn) -> Response:
    triage.require_free_or_mine(conn, viewer.name, link_id)
    review.decide(conn, link_id, decision, viewer.name, category=category or None, note=note.strip() or None,
                  required=console(request).config.reviewers_required)
    triage.release(conn, viewer.name, link_id)
    return redirect(f"/links/{link_id}#reviews")


# -- evidence ---------------------------------------------------------------------------------------

@router.get("/pages/{page_id}/evidence")
def evidence_page(*, request: Request, page_id: int, viewer: Anyone,
                  conn: Conn) -> HTMLResponse:
    meta, capture, safe = evidence_for(console(request), conn, viewer, page_id, "page")
    source = capture.body[:SOURCE_VIEW_MAX].decode("utf-8", errors="replace")
    found = read.page_links(conn, page_id) if viewer.can("link") else []
    return page(request, "evidence.html", viewer, title=f"Evidence: page {page_id}", meta=meta,
                capture=capture, safe=safe, source=source, source_cut=len(capture.body) > SOURCE_VIEW_MAX,
                found=found)


@router.get("/pages/{page_id}/evidence/rendered")
def evidence_rendered(*, request: Request, page_id: int, viewer: Anyone,
                      conn: Conn) -> HTMLResponse:
    _meta, _capture, safe = evidence_for(console(request), conn, viewer, page_id, "rendered")
    # Nothing may load, run or submit; the one stylesheet is ours (by hash); only the console may
    # frame it; and `sandbox` gives the document an opaque origin even when opened on its own.
    policy = (f"default-src 'none'; style-src {style_hash()}; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'self'; sandbox")
    return HTMLResponse(safe.html, headers={"content-security-policy": policy,
                                            "x-frame-options": "SAMEORIGIN"})


# -- triage -----------------------------------------------------------------------------------------

@router.get("/triage")
def triage_page(*, request: Request, link: int | None = None, last: int | None = None,
                viewer: CanTriage, conn: Conn) -> HTMLResponse:
    who = viewer.name
    if link is not None:
        triage.claim(conn, who, link)
        current = link
    else:
        current = triage.current_or_next(conn, who)
    item = links_db.show(conn, current, who) if current is not None else None
    queue = triage.queue(conn, who, 20)
    if current is not None and all(q["id"] != current for q in queue):
        queue = [q for q in queue if q["id"] != current][:19]
        queue.insert(0, {**item, "claimed_by": who, "skipped": False})
    free = [q["id"] for q in queue if q["claimed_by"] in (None, who)]
    at = free.index(current) if current in free else -1
    prev_id = free[at - 1] if at > 0 else None
    next_id = free[at + 1] if 0 <= at < len(free) - 1 else None
    outcome = None
    if last is not None:
        state = read.review_state(conn, last)
        if state is not None:
            outcome = {"id": last, **state}
    required = console(request).config.reviewers_required
    return page(request, "triage.html", viewer, title="Triage", item=item, queue=queue, prev_id=prev_id,
                next_id=next_id, outcome=outcome, size=triage.queue_size(conn, who), required=required,
                confirmations=confirmations(item["reviews"]) if item else 0, categories=review.CATEGORIES,
                sightings=(item["evidence"][-5:][::-1] if item else []))


@router.post("/triage/{link_id}/decide")
def triage_decide(*, request: Request, link_id: int, decision: FormText, category: FormText = "",
                  note: FormText = "", viewer: FormTriage,
                  conn: Conn) -> Response:
    # Taking (or renewing) the claim first refuses a decision on a link another analyst holds.
    triage.claim(conn, viewer.name, link_id)
    review.decide(conn, link_id, decision, viewer.name, category=category or None, note=note.strip() or None,
                  required=console(request).config.reviewers_required)
    triage.release(conn, viewer.name, link_id)
    return redirect(f"/triage?last={link_id}")


@router.post("/triage/{link_id}/skip")
def triage_skip(*, link_id: int, viewer: FormTriage,
                conn: Conn) -> Response:
    triage.skip(conn, viewer.name, link_id)
    audit(conn, viewer.name, "skip", str(link_id), {"via": "web"})
    return redirect("/triage")


@router.post("/triage/{link_id}/note")
def triage_note(*, link_id: int, note: FormText, viewer: FormTriage,
                conn: Conn) -> Response:
    if note.strip():
        review.note_only(conn, link_id, viewer.name, note.strip()[:2000])
    return redirect(f"/triage?link={link_id}")


# -- sources and runs -------------------------------------------------------------------------------

@router.get("/sources")
def sources_page(*, request: Request, viewer: CanSources,
                 conn: Conn) -> HTMLResponse:
    health = {h.name: h for h in source_health(conn, include_adhoc=True, reap=False)}
    rows = read.sources(conn)
    for row in rows:
        row["health"] = health.get(row["name"])
        row["config_text"] = json.dumps(row["config"], ensure_ascii=False, indent=2, sort_keys=True)
    audit(conn, viewer.name, "view", "sources", {"via": "web"})
    return page(request, "sources.html", viewer, title="Sources", rows=rows)


@router.get("/runs")
def runs_page(*, request: Request, source: str | None = None, before: int | None = None,
              viewer: CanRuns, conn: Conn) -> HTMLResponse:
    rows = read.runs(conn, source=source or None, before=before, limit=51)
    more = len(rows) > 50
    rows = rows[:50]
    for row in rows:
        row["stats_text"] = json.dumps(row["stats"], ensure_ascii=False, indent=2, sort_keys=True)
    audit(conn, viewer.name, "view", "runs", {"via": "web", "source": source})
    return page(request, "runs.html", viewer, title="Crawl runs", rows=rows, source=source or "",
                next_before=rows[-1]["id"] if more else None, sources=[s["name"] for s in read.sources(conn)])


# -- referrals --------------------------------------------------------------------------------------

@router.get("/referrals")
def referrals_page(*, request: Request, viewer: CanReferrals,
                   conn: Conn) -> HTMLResponse:
    rows = read.referrals(conn)
    audit(conn, viewer.name, "view", "referrals", {"via": "web"})
    return page(request, "referrals.html", viewer, title="Referrals", rows=rows, takedown=takedown(conn),
                platforms=read.takedown_by_platform(conn))


@router.get("/referrals/{period}")
def referral_page(*, request: Request, period: str, after: str | None = None,
                  viewer: CanReferrals, conn: Conn) -> HTMLResponse:
    found = read.referral(conn, period)
    if found is None:
        raise NotFoundError(f"there is no referral for {period[:20]!r}")
    items = read.referral_items(conn, period, after=after, limit=501)
    more = len(items) > 500
    items = items[:500]
    audit(conn, viewer.name, "view", period, {"via": "web", "page": "referral"})
    manifest = f"linkwatch-referral-{found['period']}-manifest.json"
    return page(request, "referral.html", viewer, title=f"Referral {found['period']}", referral=found,
                items=items, next_after=items[-1]["ref"] if more else None, manifest=manifest)


@router.get("/referrals/{period}/files/{name}")
def referral_download(*, period: str, name: str, viewer: CanReferrals,
                      conn: Conn) -> Response:
    path, digest, media = referral_file(conn, period, name)
    audit(conn, viewer.name, "download", period, {"via": "web", "file": path.name, "sha256": digest})
    return download(path, digest, media)


def download(path: Path, digest: str, media: str) -> FileResponse:
    """A referral file as an attachment, with its sha256 in a header for the receiving system."""
    return FileResponse(path, media_type=media, filename=path.name,
                        headers={"x-linkwatch-sha256": digest, "cache-control": "no-store"})


# -- administration -------------------------------------------------------------------------------

@router.get("/audit")
def audit_page(*, request: Request, actor: str | None = None, action: str | None = None,
               target: str | None = None, since: str | None = None, until: str | None = None,
               before: int | None = None, viewer: CanAudit,
               conn: Conn) -> HTMLResponse:
    from linkwatch.web.filters import parse_when

    zone = console(request).config.zone
    filters = {"actor": (actor or "").strip() or None, "action": (action or "").strip() or None,
               "target": (target or "").strip() or None,
               "since": parse_when(since, zone, end=False, name="since"),
               "until": parse_when(until, zone, end=True, name="until")}
    rows = read.audit_entries(conn, **filters, before=before, limit=101)
    more = len(rows) > 100
    rows = rows[:100]
    for row in rows:
        row["detail_text"] = json.dumps(row["detail"], ensure_ascii=False, sort_keys=True)
    audit(conn, viewer.name, "audit_view", None, {"via": "web", "filters": {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in filters.items() if v is not None}})
    form = {"actor": actor or "", "action": action or "", "target": target or "", "since": since or "",
            "until": until or ""}
    next_query = [(k, v) for k, v in form.items() if v] + [("before", str(rows[-1]["id"]))] if more else None
    return page(request, "audit.html", viewer, title="Audit log", rows=rows, form=form,
                actions=read.audit_actions(conn), next_query=next_query)


@router.get("/users")
def users_page(*, request: Request, viewer: CanUsers,
               conn: Conn) -> HTMLResponse:
    audit(conn, viewer.name, "view", "users", {"via": "web"})
    return page(request, "users.html", viewer, title="Users", rows=users.list_users(conn), roles=users.ROLES)


@router.post("/users/{name}/{change}")
def users_change(*, name: str, change: str, viewer: FormUsers,
                 conn: Conn) -> Response:
    if change not in ("disable", "enable"):
        raise NotFoundError("a user can be disabled or enabled here; add users with `linkwatch users add`")
    if change == "disable" and name == viewer.name:
        raise BadRequestError("you cannot disable yourself; another admin can")
    users.set_disabled(conn, name, change == "disable")
    audit(conn, viewer.name, f"user_{change}", name, {"via": "web"})
    return redirect("/users")
