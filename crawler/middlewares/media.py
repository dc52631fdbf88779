"""Refuses media: by URL extension before a request leaves, by Content-Type as soon as headers arrive."""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers, Response

from linkwatch.scope import is_media_type, is_media_url

logger = logging.getLogger(__name__)

STAT = "media/refused"
REFUSED_FLAG = "lw_media_refused"


class MediaRefused(IgnoreRequest):
    """Raised by MediaRefusalMiddleware for a request or response that is image, video or audio."""


class MediaRefusalMiddleware:
    """Never lets an image, video or audio body be downloaded.

    A media-looking URL is dropped before it is sent; any other response whose Content-Type is
    image/*, video/* or audio/* is cut off at `headers_received` (StopDownload) before its body is
    read. A request marked `lw_preflight` (browser mode checks a URL statically before Chromium
    navigates to it) stops after its headers either way: only the Content-Type was wanted.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MediaRefusalMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if is_media_url(request.url):
            self.stats.inc_value(STAT)
            logger.debug("Refused media URL %s", request.url)
            raise MediaRefused(f"media URL refused: {request.url}")

    def headers_received(self, headers: Headers, body_length: int, request: Request, spider: Spider) -> None:
        if is_media_type(headers.get(b"Content-Type")):
            request.meta[REFUSED_FLAG] = True
            self.stats.inc_value(STAT)
            raise StopDownload(fail=False)
        if request.meta.get("lw_preflight"):
            raise StopDownload(fail=False)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(REFUSED_FLAG) or is_media_type(response.headers.get(b"Content-Type")):
            if not request.meta.get(REFUSED_FLAG):
                # A handler that does not fire headers_received (the browser) still gets counted.
                self.stats.inc_value(STAT)
            logger.debug("Refused media response %s (%s)", request.url, response.headers.get("Content-Type"))
            raise MediaRefused(f"media response refused: {request.url}")
        return response
