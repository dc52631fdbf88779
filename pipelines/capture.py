"""CapturePipeline (100): writes each fetched page to the run's WARC file and keeps only its reference."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from linkwatch.db.warc import sha256_hex, write_response
from linkwatch.records import Page
from pipelines import required_setting

log = logging.getLogger(__name__)

# Rule 1 backstop: the downloader refuses media first; a media body must never reach the evidence store.
MEDIA_PREFIXES = ("image/", "video/", "audio/")


def warc_name(run_id: int | None) -> str:
    """The run's WARC file, relative to the data directory."""
    if run_id is not None:
        return f"warc/{run_id}.warc.gz"
    # No crawl_runs row (tests, ad-hoc use): one file per process so runs never share a name.
    return f"warc/norun-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.warc.gz"


class CapturePipeline:
    """Captures item.body as a WARC response record, sets sha256 and the WARC reference, frees the body."""

    def __init__(self, crawler: Crawler, data_dir: Path, run_id: int | None) -> None:
        self.stats = crawler.stats
        self.data_dir = data_dir
        self.warc_file = warc_name(run_id)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CapturePipeline:
        settings = crawler.settings
        run_id = settings.get("LINKWATCH_RUN_ID")
        data_dir = Path(required_setting(crawler, "LINKWATCH_DATA_DIR"))
        return cls(crawler, data_dir, int(run_id) if run_id is not None else None)

    def process_item(self, item: Page) -> Page:
        if (item.content_type or "").strip().lower().startswith(MEDIA_PREFIXES):
            self.stats.inc_value("linkwatch/dropped/media")
            raise DropItem(f"media response never stored: {item.content_type!r}")
        if item.body is None:
            if not item.sha256:  # nothing to capture and nothing to prove: store the empty version
                return replace(item, sha256=sha256_hex(b""))
            return item
        body = item.body
        if isinstance(body, str):  # a rendered DOM handed over as text
            body = body.encode("utf-8", "surrogatepass")
        try:
            offset, length, digest = write_response(
                self.data_dir / self.warc_file, item.url, item.status, list(item.headers), body,
                item.fetched_at,
            )
        except OSError as exc:
            # A full or read-only disk must not lose the links: store the page without evidence.
            log.error("cannot write the capture of %s to %s: %s", item.url[:200], self.warc_file, exc)
            self.stats.inc_value("linkwatch/capture_errors")
            return replace(item, body=None, body_size=len(body), sha256=sha256_hex(body))
        self.stats.inc_value("linkwatch/captured_bytes", len(body))
        # The body is in the WARC file now: only its reference travels on, so pages do not pile up.
        return replace(item, body=None, body_size=len(body), sha256=digest, warc_file=self.warc_file,
                       warc_offset=offset, warc_length=length)
