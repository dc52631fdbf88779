"""The console's application factory: one FastAPI app with the pages, the REST API under /api/v1, the
static assets, and the error pages, built from the Config the entry point loaded."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg_pool import ConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException

import linkwatch
from linkwatch.config import Config
from linkwatch.db.links import LinkNotFoundError
from linkwatch.db.triage import ClaimError
from linkwatch.db.users import UserError
from linkwatch.db.warc import CaptureError
from linkwatch.errors import LinkwatchError
from linkwatch.jobs.review import ReviewError
from linkwatch.web import api, pages
from linkwatch.web.auth import safe_next
from linkwatch.web.errors import NotLoggedInError, TooManyAttemptsError, WebError
from linkwatch.web.headers import SecurityHeaders
from linkwatch.web.jsonsafe import SafeJSONResponse
from linkwatch.web.render import environment, render
from linkwatch.web.state import Console, log

STATIC = Path(__file__).resolve().parent / "static"
API_PREFIX = "/api/v1"


class CachedStatic(StaticFiles):
    """Static assets: the console's own files, cached by the browser (their URLs carry the version)."""

    def file_response(self, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "public, max-age=86400"
        return response


def _configure(conn: psycopg.Connection) -> None:
    # A runaway query (a pathological text search) must not hold a pooled connection for ever.
    conn.execute("SET statement_timeout = '60s'")


def create_app(config: Config, database_url: str, *, pool_size: int = 10,
               pool_timeout: float = 10) -> FastAPI:
    """The console for the database at `database_url`; the pool opens when the server starts.

    `pool_timeout`: seconds a request waits for a database connection before it answers 503.
    """
    pool = ConnectionPool(database_url, min_size=1, max_size=pool_size, open=False, name="linkwatch-web",
                          kwargs={"autocommit": True}, configure=_configure,
                          check=ConnectionPool.check_connection)
    state = Console(config=config, database_url=database_url, pool=pool, templates=environment(config.zone),
                    pool_timeout=pool_timeout)

    def warm() -> None:
        # The dashboard's figures take a pass over every link: computed before anyone asks.
        try:
            with pool.connection(timeout=pool_timeout) as conn:
                state.cached("dashboard", pages.DASHBOARD_SECONDS,
                             lambda c: pages.dashboard_figures(c, config.zone), conn)
        except Exception as exc:  # the first dashboard request computes them instead
            log.info("dashboard figures not computed at start (%s)", exc.__class__.__name__)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool.open(wait=False)
        threading.Thread(target=warm, daemon=True, name="lw-warm").start()
        try:
            yield
        finally:
            pool.close(timeout=5)

    app = FastAPI(
        title="linkwatch API",
        version=linkwatch.__version__,
        description=(
            "Read the links linkwatch found, their evidence and the weekly referrals; record triage "
            "decisions. Every call needs `Authorization: Bearer <token>` (from `linkwatch users token "
            "NAME`) except `/api/v1/health`. Times are in the configured zone "
            f"({config.timezone}), ISO 8601 with their offset."),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
    )
    app.state.console = state
    app.add_middleware(SecurityHeaders)
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(pages.router)

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error_response(request: Request, status: int, message: str,
                       headers: dict[str, str] | None = None) -> Response:
        if is_api(request):
            return SafeJSONResponse({"message": message, "status": status}, status_code=status,
                                    headers=headers)
        viewer = getattr(request.state, "viewer", None)
        response = pages.page(request, "error.html", viewer, status=status, title=f"Error {status}",
                              message=message, code=status)
        response.headers.update(headers or {})
        return response

    @app.exception_handler(NotLoggedInError)
    async def not_logged_in(request: Request, exc: NotLoggedInError) -> Response:
        if is_api(request):
            return error_response(request, 401, str(exc), {"www-authenticate": 'Bearer realm="linkwatch"'})
        wanted = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if request.method == "GET" and request.headers.get("sec-fetch-site") == "cross-site" \
                and request.headers.get("sec-fetch-mode") == "navigate":
            # A link followed from another site arrives without the SameSite=Strict cookie: reload it
            # from here (a same-site navigation), which carries the cookie when there is a session.
            return HTMLResponse(render(state.templates, "bounce.html", target=wanted))
        target = "/login" + (f"?{urlencode({'next': wanted})}" if wanted not in ("/", "") else "")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"hx-redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(TooManyAttemptsError)
    async def too_many(request: Request, exc: TooManyAttemptsError) -> Response:
        return error_response(request, 429, str(exc), {"retry-after": str(exc.retry_after)})

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        return error_response(request, exc.status, str(exc))

    @app.exception_handler(LinkNotFoundError)
    async def not_found(request: Request, exc: LinkNotFoundError) -> Response:
        return error_response(request, 404, str(exc))

    @app.exception_handler(ClaimError)
    async def claim_error(request: Request, exc: ClaimError) -> Response:
        return error_response(request, 409, str(exc))

    @app.exception_handler(CaptureError)
    async def capture_error(request: Request, exc: CaptureError) -> Response:
        # A missing or altered capture: the evidence cannot be shown as it was captured.
        return error_response(request, 409, str(exc))

    @app.exception_handler(ReviewError)
    @app.exception_handler(UserError)
    async def bad_input(request: Request, exc: LinkwatchError) -> Response:
        return error_response(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        message = f"{where}: {first.get('msg', 'invalid value')}"
        if is_api(request):
            return SafeJSONResponse({"message": message, "status": 422}, status_code=422)
        return error_response(request, 400, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "there is no such page", 405: "this page does not take that method"}.get(
            exc.status_code, str(exc.detail))
        return error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "something went wrong on the server; the log has the details")

    return app
