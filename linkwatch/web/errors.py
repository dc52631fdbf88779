"""The console's errors: each is one sentence for the person and an HTTP status."""

from __future__ import annotations

from linkwatch.errors import LinkwatchError


class WebError(LinkwatchError):
    """Base of the errors a console page or API call answers with; `status` is the HTTP status."""

    status = 400


class BadRequestError(WebError):
    """A query parameter or form field that cannot be used (a malformed date, an unknown cursor)."""


class NotLoggedInError(WebError):
    """No valid session cookie (pages: redirect to /login) or no valid Bearer token (API: 401)."""

    status = 401


class ForbiddenError(WebError):
    """The user's role does not allow this page or call, or the form's CSRF token is wrong."""

    status = 403


class NotFoundError(WebError):
    status = 404


class ConflictError(WebError):
    """The action collides with someone else's: a link another analyst is triaging."""

    status = 409


class TooManyAttemptsError(WebError):
    """Too many failed logins for this name or address; `retry_after` is in seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnavailableError(WebError):
    """The database cannot be reached right now."""

    status = 503
