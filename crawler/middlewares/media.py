"""Refuses media: by URL extension before a request leaves, by Content-Type at the headers, by first bytes."""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers, Response

from linkwatch.media import SNIFF_BYTES, decoded_prefix, media_kind
from linkwatch.scope import is_media_type, is_media_url

logger = logging.getLogger(__name__)

STAT = "media/refused"
SNIFF_STAT = "media/refused/by_first_bytes"
REFUSED_FLAG = "lw_media_refused"
_PREFIX = "lw_media_prefix"  # bytes of a body so far, until there are enough to judge
_JUDGED = "lw_media_judged"
_ENCODING = "lw_media_encoding"


class MediaRefused(IgnoreRequest):
    """Raised by MediaRefusalMiddleware for a request or response that is image, video or audio."""


class MediaRefusalMiddleware:
    """Never lets an image, video, audio or font body be downloaded, whatever it is labelled.

    A media-looking URL is dropped before it is sent; a response whose Content-Type is image/*,
    video/* or audio/* is cut off at `headers_received` (StopDownload) before its body is read;
    any other response is judged by its first bytes (linkwatch.media: PNG, JPEG, MP4, WOFF, …) as
    soon as they arrive (`bytes_received`, after undoing gzip/deflate/br on that chunk alone) and
    cut off there. The first chunk stays in memory only and is dropped with the response. The
    whole body is judged once more in `process_response`, after Scrapy's decompression, so no
    label or encoding trick gets a picture to the spider.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    @property
    def stats(self) -> object:
        return self.crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MediaRefusalMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if is_media_url(request.url):
            self.stats.inc_value(STAT)
            logger.debug("Refused media URL %s", request.url)
            raise MediaRefused(f"media URL refused: {request.url}")

    def headers_received(self, headers: Headers, body_length: int, request: Request, spider: Spider) -> None:
        for key in (REFUSED_FLAG, _PREFIX, _JUDGED):  # a retried or redirected request is judged anew
            request.meta.pop(key, None)
        if is_media_type(headers.get(b"Content-Type")):
            request.meta[REFUSED_FLAG] = "content-type"
            self.stats.inc_value(STAT)
            raise StopDownload(fail=False)
        encoding = headers.get(b"Content-Encoding")
        request.meta[_ENCODING] = encoding.decode("latin-1") if encoding else None

    def bytes_received(self, data: bytes, request: Request, spider: Spider) -> None:
        meta = request.meta
        if meta.get(_JUDGED) or meta.get(REFUSED_FLAG):
            return
        prefix = meta.pop(_PREFIX, b"") + data
        if len(prefix) < SNIFF_BYTES * 8:  # a server dribbling bytes: judge once a few arrived
            meta[_PREFIX] = prefix
        else:
            meta[_JUDGED] = True
        kind = media_kind(decoded_prefix(prefix, meta.get(_ENCODING)))
        if kind is None:
            return
        meta.pop(_PREFIX, None)
        meta[REFUSED_FLAG] = kind
        self.stats.inc_value(STAT)
        self.stats.inc_value(SNIFF_STAT)
        logger.debug("Refused %s body of %s at its first bytes", kind, request.url)
        raise StopDownload(fail=False)

    def process_response(self, request: Request, response: Response) -> Response:
        request.meta.pop(_PREFIX, None)
        flag = request.meta.get(REFUSED_FLAG)
        if flag is None and is_media_type(response.headers.get(b"Content-Type")):
            flag = "content-type"
            self.stats.inc_value(STAT)  # a handler that does not fire headers_received
        if flag is None:
            kind = media_kind(response.body[:SNIFF_BYTES])
            if kind is not None:
                # only an encoding the first-chunk check could not undo gets here
                flag = kind
                self.stats.inc_value(STAT)
                self.stats.inc_value(SNIFF_STAT)
        if flag is not None:
            logger.debug("Refused media response %s (%s)", request.url, flag)
            raise MediaRefused(f"media response refused ({flag}): {request.url}")
        return response
