"""CapturePipeline (100): writes each fetched page to the run's WARC file and keeps only its reference.

Settings: LINKWATCH_DATA_DIR, LINKWATCH_RUN_ID, and the database (LINKWATCH_DATABASE_ID, else the one at
LINKWATCH_DATABASE_URL) that names the file's directory and owns it.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from linkwatch.db.warc import CaptureError, claim_file, database_identity, sha256_hex, write_response
from linkwatch.media import SNIFF_BYTES, media_kind
from linkwatch.records import Page
from linkwatch.volatile import version_digest
from pipelines import required_setting

log = logging.getLogger(__name__)

# Rule 1 backstop: the downloader refuses media first; a media body must never reach the evidence store.
MEDIA_PREFIXES = ("image/", "video/", "audio/")


def warc_name(run_id: int | None, database: str) -> str:
    """The run's WARC file, relative to the data directory: in the database's own directory, so two
    databases sharing a data directory never write to one file (their run ids overlap)."""
    if run_id is not None:
        return f"warc/{database}/{run_id}.warc.gz"
    # No crawl_runs row (tests, ad-hoc use): one file per process so runs never share a name.
    return f"warc/{database}/norun-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.warc.gz"


def database_of(settings: Any) -> str:
    """The crawl's database as linkwatch.db.warc.database_identity() names it: LINKWATCH_DATABASE_ID (set
    by crawler.runner), else asked of LINKWATCH_DATABASE_URL; without a database (tests, or one that
    cannot be reached) a name no other process will ever use."""
    given = settings.get("LINKWATCH_DATABASE_ID")
    if given:
        return re.sub(r"[^A-Za-z0-9_.-]", "_", str(given))
    url = settings.get("LINKWATCH_DATABASE_URL")
    if url:
        from linkwatch.db import DatabaseError, connect

        try:
            with connect(url, autocommit=True) as conn:
                return database_identity(conn)
        except DatabaseError as exc:  # capturing must not wait for PostgreSQL (the store spills)
            log.warning("capture file named without the database's identity: %s", exc)
    return f"nodb-{uuid.uuid4().hex[:12]}"


class CapturePipeline:
    """Captures item.body as a WARC response record, sets sha256 and the WARC reference, frees the body.

    It also sets `version`, the digest of the body without its volatile parts (linkwatch.volatile):
    the store counts a page version by it, while the capture and sha256 stay byte-exact.

    The file is claimed for the crawl's database before its first record (linkwatch.db.warc.claim_file);
    a file of the same name that belongs to another database is left alone and a new name is taken.
    """

    def __init__(self, crawler: Crawler, data_dir: Path, run_id: int | None) -> None:
        self.stats = crawler.stats
        self.data_dir = data_dir
        self.owner = database_of(crawler.settings)
        self.warc_file = warc_name(run_id, self.owner)
        self.claimed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CapturePipeline:
        settings = crawler.settings
        run_id = settings.get("LINKWATCH_RUN_ID")
        data_dir = Path(required_setting(crawler, "LINKWATCH_DATA_DIR"))
        return cls(crawler, data_dir, int(run_id) if run_id is not None else None)

    def _claim(self) -> None:
        try:
            claim_file(self.data_dir / self.warc_file, self.owner)
        except CaptureError as exc:
            # Never append to another database's evidence; this run's captures go to a new file.
            log.error("%s", exc)
            self.warc_file = self.warc_file.removesuffix(".warc.gz") + f"-{uuid.uuid4().hex[:8]}.warc.gz"
            claim_file(self.data_dir / self.warc_file, self.owner)
        self.claimed = True

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
        kind = media_kind(body[:SNIFF_BYTES])
        if kind is not None:
            # Labelled as a page, but its first bytes are a picture, a video, a sound or a font.
            self.stats.inc_value("media/refused")
            self.stats.inc_value("linkwatch/dropped/media")
            raise DropItem(f"media body ({kind}) never stored: {item.url[:200]}")
        try:
            if not self.claimed:
                self._claim()
            offset, length, digest = write_response(
                self.data_dir / self.warc_file, item.url, item.status, list(item.headers), body,
                item.fetched_at,
            )
        except (OSError, CaptureError) as exc:
            # A full or read-only disk must not lose the links: store the page without evidence.
            log.error("cannot write the capture of %s to %s: %s", item.url[:200], self.warc_file, exc)
            self.stats.inc_value("linkwatch/capture_errors")
            return replace(item, body=None, body_size=len(body), sha256=sha256_hex(body),
                           version=version_digest(body))
        self.stats.inc_value("linkwatch/captured_bytes", len(body))
        # The body is in the WARC file now: only its reference travels on, so pages do not pile up.
        return replace(item, body=None, body_size=len(body), sha256=digest, warc_file=self.warc_file,
                       warc_offset=offset, warc_length=length, version=version_digest(body))
