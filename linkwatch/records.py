"""The item a spider yields: one fetched page with the open-channel links found on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PageItem:
    """One fetched page version and its links; the pipelines capture, score and store it.

    `links` holds linkwatch.extract results as dicts (platform, kind, code, url, raw, obfuscated,
    where, context); the score pipeline adds `score` to each. `body` is cleared by the capture
    pipeline once the page is written to WARC, so pages do not pile up in memory.
    """

    url: str
    fetched_at: datetime
    status: int
    content_type: str
    body: bytes | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    rendered: bool = False
    title: str = ""
    links: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""
    body_size: int | None = None  # bytes of the body, kept after the body itself is freed
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
