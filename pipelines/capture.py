"""CapturePipeline (100): writes each fetched page to the run's WARC file and keeps only its reference."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.config import get_config
from crawler.items import PageItem
from linkwatch.media import SNIFF_BYTES, media_kind
from pipelines.warc import sha256_hex, write_response

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
        data_dir = Path(settings.get("LINKWATCH_DATA_DIR") or get_config().data_dir)
        return cls(crawler, data_dir, int(run_id) if run_id is not None else None)

    def process_item(self, item: PageItem) -> PageItem:
        if (item.content_type or "").strip().lower().startswith(MEDIA_PREFIXES):
            self.stats.inc_value("linkwatch/dropped/media")
            raise DropItem(f"media response never stored: {item.content_type!r}")
        if item.body is None:
            if not item.sha256:  # nothing to capture and nothing to prove: store the empty version
                item.sha256 = sha256_hex(b"")
            return item
        if isinstance(item.body, str):  # a rendered DOM handed over as text
            item.body = item.body.encode("utf-8", "surrogatepass")
        kind = media_kind(item.body[:SNIFF_BYTES])
        if kind is not None:
            # Labelled as a page, but its first bytes are a picture, a video, a sound or a font.
            self.stats.inc_value("media/refused")
            self.stats.inc_value("linkwatch/dropped/media")
            item.body = None
            raise DropItem(f"media body ({kind}) never stored: {item.url[:200]}")
        item.body_size = len(item.body)
        try:
            offset, length, digest = write_response(
                self.data_dir / self.warc_file,
                item.url,
                item.status,
                item.headers,
                item.body,
                item.fetched_at,
            )
        except OSError as exc:
            # A full or read-only disk must not lose the links: store the page without evidence.
            log.error("cannot write the capture of %s to %s: %s", item.url[:200], self.warc_file, exc)
            self.stats.inc_value("linkwatch/capture_errors")
            item.sha256 = sha256_hex(item.body)
            item.body = None
            return item
        item.sha256 = digest
        item.warc_file = self.warc_file
        item.warc_offset = offset
        item.warc_length = length
        self.stats.inc_value("linkwatch/captured_bytes", len(item.body))
        item.body = None
        return item
