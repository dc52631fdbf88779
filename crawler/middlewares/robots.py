"""robots.txt downloader middleware: Scrapy's, with every request that waits for robots.txt checked."""

from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class NetworkErrorsWithoutTraceback(logging.Filter):
    """Scrapy logs a robots.txt that could not be downloaded with the whole traceback (some sixty lines
    for a site that refuses connections). A network failure is a fact about the site, said in the
    record's one line; the traceback stays for anything else (a bug deserves one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _network_error(exc):
            record.exc_info = None
            record.exc_text = None
        return True


def _network_error(exc: BaseException) -> bool:
    from scrapy import exceptions
    from twisted.internet import error

    return isinstance(exc, (
        exceptions.DownloadConnectionRefusedError, exceptions.CannotResolveHostError,
        exceptions.DownloadTimeoutError, exceptions.DownloadFailedError, exceptions.DownloadCancelledError,
        error.ConnectError, error.TimeoutError, error.ConnectionLost,
    ))


_ROBOTS_LOG = logging.getLogger("scrapy.downloadermiddlewares.robotstxt")
if not any(isinstance(f, NetworkErrorsWithoutTraceback) for f in _ROBOTS_LOG.filters):
    _ROBOTS_LOG.addFilter(NetworkErrorsWithoutTraceback())


class WaitingRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy 2.19's RobotsTxtMiddleware lets through unchecked all but one of the requests that
    arrive while a host's robots.txt is downloading: they all await the same Deferred, the first
    awaiter's callback consumes its result and the others get None ("no robots.txt"). A crawl
    whose first requests come in a batch (several start URLs, a distributed worker taking
    requests from the shared queue) then fetched disallowed pages. Here a waiter reads the parser
    the middleware stored once that Deferred fired.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if isinstance(pending, Deferred):
            await maybe_deferred_to_future(pending)
            # _parse_robots / _robots_error store the parser (or None) before firing the Deferred
            return self._parsers[netloc]
        return await super().robot_parser(request)
