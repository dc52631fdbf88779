"""Who may do what: roles and their permissions, the session cookie for pages, Bearer tokens for the API,
and the CSRF check on every form."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from linkwatch.db import users
from linkwatch.web.errors import ForbiddenError, NotLoggedInError
from linkwatch.web.state import Conn, console

SESSION_COOKIE = "lw_session"
LOGIN_COOKIE = "lw_login"  # the login form's own CSRF token (double submit), before any session exists

# What each role may do. The split: investigators query; analysts also triage and watch the
# crawls; the regulator sees referrals and the links in them; the admin manages users and reads the
# audit log, and may do everything else too (an admin is the one who answers "what does X see?").
INVESTIGATE = frozenset({"dashboard", "search", "link", "evidence", "export"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "investigator": INVESTIGATE,
    "analyst": INVESTIGATE | {"triage", "review", "sources", "runs"},
    "regulator": frozenset({"dashboard", "referrals", "referred_link"}),
    "admin": INVESTIGATE | {"triage", "review", "sources", "runs", "referrals", "referred_link", "users",
                            "audit"},
}

bearer = HTTPBearer(auto_error=False, description="An API token from `linkwatch users token NAME`.")


@dataclass(frozen=True)
class Viewer:
    """The logged-in person making this request, and how (a page's session or an API token)."""

    user: users.User
    via: str  # "web" | "api"
    csrf: str | None = None

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.user.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise ForbiddenError(f"your role ({self.user.role}) does not allow this")


def page_viewer(request: Request, conn: Conn) -> Viewer:
    """The session's user; NotLoggedInError (a redirect to /login) without a live session."""
    token = request.cookies.get(SESSION_COOKIE)
    state = console(request)
    session = users.session_for(conn, token, state.session_idle_seconds, state.session_absolute_seconds) \
        if token else None
    if session is None:
        raise NotLoggedInError("please log in")
    viewer = Viewer(session.user, "web", session.csrf)
    request.state.viewer = viewer
    return viewer


def api_viewer(request: Request, conn: Conn,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None) -> Viewer:
    """The API token's user; NotLoggedInError (401) without a valid Bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotLoggedInError("this API needs a Bearer token (linkwatch users token NAME)")
    user = users.user_for_token(conn, credentials.credentials)
    if user is None:
        raise NotLoggedInError("the Bearer token is not valid (revoked, or its user is disabled)")
    viewer = Viewer(user, "api")
    request.state.viewer = viewer
    return viewer


def page_can(permission: str) -> Callable[..., Viewer]:
    """A dependency: the page's viewer, who must have `permission` (else 403)."""

    def dependency(viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
        viewer.require(permission)
        return viewer

    return dependency


def api_can(permission: str) -> Callable[..., Viewer]:
    """A dependency: the API caller, who must have `permission` (else 403)."""

    def dependency(viewer: Annotated[Viewer, Depends(api_viewer)]) -> Viewer:
        viewer.require(permission)
        return viewer

    return dependency


def same_origin(request: Request) -> None:
    """ForbiddenError when the browser says the request comes from another site (Sec-Fetch-Site, Origin)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise ForbiddenError("this form was sent from another site; use the console itself")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc.lower() != host.lower():
            raise ForbiddenError("this form was sent from another site; use the console itself")


def check_csrf(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise ForbiddenError("the form has expired or did not come from this console; reload the page and "
                             "try again")


def form_can(permission: str | None = None) -> Callable[..., object]:
    """A dependency for POSTed forms: a logged-in viewer with `permission`, a same-origin request and
    the session's CSRF token in the form (field `csrf`) or the X-CSRF-Token header."""

    async def dependency(request: Request, viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
        same_origin(request)
        form = await request.form()
        given = form.get("csrf") or request.headers.get("x-csrf-token")
        check_csrf(viewer.csrf, given if isinstance(given, str) else None)
        if permission is not None:
            viewer.require(permission)
        return viewer

    return dependency


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this console only (never another site)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or len(target) > 2000:
        return "/"
    if any(c in target for c in "\r\n\t\\"):
        return "/"
    return target
