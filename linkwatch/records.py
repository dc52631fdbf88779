"""The records that flow between stages: a fetched page version and the open-channel links found on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FoundLink:
    """One open-channel link as found on a page: what the extractor saw, and the score it earned."""

    platform: str
    kind: str
    code: str
    url: str  # canonical
    raw: str = ""  # as written on the page
    obfuscated: bool = False
    where: str = "text"  # href | meta | redirect | attr | text
    context: str = ""
    score: float = 0.0
    post: str = ""  # the post that carries it (linkwatch.posts); "" when not known: the store falls back

    @classmethod
    def from_extracted(cls, link: Any) -> FoundLink:
        """From a linkwatch.extract.Link (or anything with the same attributes)."""
        return cls(link.platform, link.kind, link.code, link.url, link.raw, bool(link.obfuscated),
                   link.where, link.context)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FoundLink:
        return cls(
            platform=data["platform"], kind=data["kind"], code=data["code"], url=data["url"],
            raw=data.get("raw") or data["url"], obfuscated=bool(data.get("obfuscated")),
            where=data.get("where") or "text", context=data.get("context") or "",
            score=float(data.get("score") or 0.0), post=str(data.get("post") or ""),
        )


@dataclass(frozen=True)
class Page:
    """One fetched page version and its links; the pipelines capture, clean, score and store it.

    `body` is dropped (None) by the capture pipeline once the page is in the WARC store, so pages do
    not pile up in memory; `body_size`, `sha256` and the WARC reference stay. `sha256` is the body's
    digest (the evidence); `version` identifies the page version (volatile parts left out). `key` is the crawl
    frontier's key of the request that fetched it (the page counts as done under that key), `seq` its
    place in the crawl journal once journaled.
    """

    url: str
    fetched_at: datetime
    status: int
    content_type: str
    body: bytes | None
    headers: tuple[tuple[str, str], ...] = ()
    rendered: bool = False
    title: str = ""
    links: tuple[FoundLink, ...] = ()
    sha256: str = ""
    version: str = ""  # sha256 without the volatile parts (linkwatch.volatile): "" falls back to sha256
    body_size: int | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    key: str | None = None
    seq: int | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the page without its body (the body is in the WARC capture)."""
        return {
            "url": self.url,
            "fetched_at": self.fetched_at.isoformat(),
            "status": self.status,
            "content_type": self.content_type,
            "headers": [list(h) for h in self.headers],
            "rendered": self.rendered,
            "title": self.title,
            "links": [link.to_json() for link in self.links],
            "sha256": self.sha256,
            "version": self.version,
            "body_size": self.body_size,
            "warc_file": self.warc_file,
            "warc_offset": self.warc_offset,
            "warc_length": self.warc_length,
            "key": self.key,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, seq: int | None = None) -> Page:
        """The page a to_json() dict describes (KeyError/TypeError/ValueError when it is malformed)."""
        return cls(
            url=data["url"],
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
            status=int(data["status"]),
            content_type=data.get("content_type") or "",
            body=None,
            headers=tuple((str(k), str(v)) for k, v in data.get("headers") or []),
            rendered=bool(data.get("rendered")),
            title=data.get("title") or "",
            links=tuple(FoundLink.from_json(link) for link in data.get("links") or []),
            sha256=data["sha256"],
            version=data.get("version") or "",
            body_size=data.get("body_size"),
            warc_file=data.get("warc_file"),
            warc_offset=data.get("warc_offset"),
            warc_length=data.get("warc_length"),
            key=data.get("key"),
            seq=seq,
        )

    @property
    def size(self) -> int:
        """Bytes of the body, whether or not it is still held."""
        return len(self.body) if self.body is not None else (self.body_size or 0)
