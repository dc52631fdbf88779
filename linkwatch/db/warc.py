"""Evidence captures: writes fetched pages as WARC response records and reads them back, digest-checked."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from linkwatch.db.sql import query
from linkwatch.errors import LinkwatchError

# Scrapy and browsers hand us the decoded body; keeping these headers would make a WARC reader
# try to un-chunk or un-gzip bytes that are already plain.
_DROP_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class CaptureError(LinkwatchError):
    """Raised by read_capture() when a capture is missing, unreadable or its digest does not match, and
    by claim_file() when a capture file belongs to another database."""


# The warcinfo field naming the database a capture file belongs to (see claim_file()).
OWNER_FIELD = "linkwatch-database"


@dataclass(frozen=True)
class Capture:
    """A page capture read back from WARC: what the server said and the exact body bytes."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    sha256: str
    fetched_at: str


def sha256_hex(body: bytes) -> str:
    """The page-version digest stored in pages.sha256."""
    return hashlib.sha256(body).hexdigest()


def _payload_digest(body: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode("ascii")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def write_response(
    path: Path,
    url: str,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    fetched_at: datetime | None = None,
) -> tuple[int, int, str]:
    """Appends one gzipped WARC response record to `path`; returns (offset, length, sha256 hex).

    Each record is its own gzip member, so appending is safe; an exclusive lock keeps two writers
    (e.g. two crawl processes sharing a run) from interleaving records.
    """
    http_headers = [(k, v) for k, v in headers if k.lower() not in _DROP_HEADERS]
    http_headers.append(("Content-Length", str(len(body))))
    status_line = f"{int(status)} {_reason(int(status))}"
    when = (fetched_at or datetime.now(UTC)).astimezone(UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0, io.SEEK_END)
            offset = fh.tell()
            writer = WARCWriter(fh, gzip=True)
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders(status_line, http_headers, protocol="HTTP/1.1"),
                warc_headers_dict={
                    "WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "WARC-Payload-Digest": _payload_digest(body),
                },
            )
            writer.write_record(record)
            fh.flush()
            length = fh.tell() - offset
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return offset, length, sha256_hex(body)


def database_identity(conn: psycopg.Connection) -> str:
    """The name of the database `conn` is connected to among every PostgreSQL there is, fit for a
    directory name: `<name>-<system identifier>-<oid>`.

    Two databases of one server differ in the OID, two servers in the cluster's system identifier
    (random at initdb; a restored copy gets its own); the name is there for people.
    """
    system_id, oid, name = conn.execute(query("warc", "identity")).fetchone()
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40] or "db"
    return f"{safe}-{system_id}-{oid}"


def claim_file(path: Path, owner: str) -> None:
    """Makes `path` a capture file of database `owner`, or refuses (CaptureError) to append to one that
    belongs to another database (or to no known one).

    A new file starts with a warcinfo record naming its owner; the check reads that record back.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0, io.SEEK_END)
            if fh.tell() == 0:
                writer = WARCWriter(fh, gzip=True)
                writer.write_record(writer.create_warcinfo_record(
                    path.name, {"software": "linkwatch", OWNER_FIELD: owner}))
                fh.flush()
                return
            fh.seek(0)
            found = _owner_of(fh)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    if found != owner:
        whose = f"database {found}" if found else "no known database"
        raise CaptureError(f"capture file {path} belongs to {whose}, not this one ({owner}); "
                           "refusing to append to it")


def _owner_of(fh: io.BufferedIOBase) -> str | None:
    try:
        record = next(iter(ArchiveIterator(fh)), None)
        if record is None or record.rec_type != "warcinfo":
            return None
        for line in record.content_stream().read().decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == OWNER_FIELD:
                return value.strip()
    except Exception:  # warcio raises assorted errors on a file that is not WARC
        return None
    return None


def read_capture(
    data_dir: Path | str, warc_file: str, offset: int, sha256: str | None = None
) -> Capture:
    """Reads the record at `offset` in `<data_dir>/<warc_file>` and checks its digest.

    The body must match the record's own WARC-Payload-Digest and, when given, the sha256 stored with
    the page; a mismatch raises CaptureError (the evidence was altered or the reference is wrong).
    """
    base = Path(data_dir).resolve()
    path = (base / warc_file).resolve()
    if not path.is_relative_to(base):
        raise CaptureError(f"capture path {warc_file!r} points outside the data directory")
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CaptureError(f"capture file {path} cannot be opened ({exc.strerror})") from exc
    with fh:
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh)), None)
            if record is None or not record.format.startswith("warc") or record.rec_type != "response":
                raise CaptureError(f"no WARC response record at offset {offset} of {path}")
            body = record.content_stream().read()
        except CaptureError:
            raise
        except Exception as exc:  # warcio raises assorted errors on corrupt files
            raise CaptureError(f"the WARC record at offset {offset} of {path} is unreadable ({exc})") from exc
        digest = sha256_hex(body)
        recorded = record.rec_headers.get_header("WARC-Payload-Digest")
        if recorded and recorded.startswith("sha256:") and recorded != _payload_digest(body):
            raise CaptureError(f"the capture at offset {offset} of {path} fails its WARC payload digest")
        if sha256 is not None and digest != sha256:
            raise CaptureError(
                f"the capture at offset {offset} of {path} has sha256 {digest[:12]}…, "
                f"the page row says {sha256[:12]}…"
            )
        http = record.http_headers
        status = int(http.get_statuscode() or 0) if http else 0
        return Capture(
            url=record.rec_headers.get_header("WARC-Target-URI") or "",
            status=status,
            headers=list(http.headers) if http else [],
            body=body,
            sha256=digest,
            fetched_at=record.rec_headers.get_header("WARC-Date") or "",
        )


def read_page_capture(conn: psycopg.Connection, data_dir: Path | str, page_id: int) -> Capture:
    """The digest-checked capture of page `page_id`; CaptureError when the page has none."""
    row = conn.execute(query("warc", "page_capture"), {"id": page_id}).fetchone()
    if row is None:
        raise CaptureError(f"there is no page with id {page_id}")
    warc_file, offset, sha256 = row
    if warc_file is None or offset is None:
        raise CaptureError(f"page {page_id} has no capture")
    return read_capture(data_dir, warc_file, offset, sha256)
