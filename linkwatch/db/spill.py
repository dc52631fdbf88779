"""Spill files: batches the store could not write, as JSON lines under <data_dir>/spill/, replayed later."""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from linkwatch.errors import LinkwatchError
from linkwatch.records import PageItem

if TYPE_CHECKING:
    from linkwatch.db.store import StoreResult

log = logging.getLogger(__name__)

FORMAT = "linkwatch-spill/1"
_seq = itertools.count()


class SpillError(LinkwatchError):
    """Raised by read_spill() when a spill file is not one linkwatch wrote; the message names the file."""


def spill_dir(data_dir: Path) -> Path:
    return data_dir / "spill"


def page_to_json(page: PageItem) -> dict[str, Any]:
    """A JSON-ready dict of the page; the body is left out (it is in the WARC capture)."""
    return {
        "url": page.url,
        "fetched_at": page.fetched_at.isoformat(),
        "status": page.status,
        "content_type": page.content_type,
        "headers": [list(h) for h in page.headers],
        "rendered": page.rendered,
        "title": page.title,
        "links": page.links,
        "sha256": page.sha256,
        "body_size": page.body_size,
        "warc_file": page.warc_file,
        "warc_offset": page.warc_offset,
        "warc_length": page.warc_length,
    }


def page_from_json(data: dict[str, Any]) -> PageItem:
    return PageItem(
        url=data["url"],
        fetched_at=datetime.fromisoformat(data["fetched_at"]),
        status=data["status"],
        content_type=data.get("content_type") or "",
        body=None,
        headers=[tuple(h) for h in data.get("headers") or []],
        rendered=bool(data.get("rendered")),
        title=data.get("title") or "",
        links=list(data.get("links") or []),
        sha256=data["sha256"],
        body_size=data.get("body_size"),
        warc_file=data.get("warc_file"),
        warc_offset=data.get("warc_offset"),
        warc_length=data.get("warc_length"),
    )


def _write_atomic(path: Path, pages: list[PageItem], header: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        # ensure_ascii keeps any stray surrogate escaped rather than failing the write
        fh.write(json.dumps(header) + "\n")
        for page in pages:
            fh.write(json.dumps(page_to_json(page)) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)  # a reader never sees half a file
    return path


def _name(run_id: int | None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{stamp}-{time.monotonic_ns() % 10**9:09d}-{os.getpid()}-{next(_seq):06d}-run{run_id or 0}.jsonl"


def spill_batch(data_dir: Path, pages: list[PageItem], run_id: int | None) -> Path:
    """Writes a batch to a new spill file (fsynced, renamed into place) and returns its path."""
    header = {"format": FORMAT, "run_id": run_id, "pages": len(pages)}
    return _write_atomic(spill_dir(data_dir) / _name(run_id), pages, header)


def reject(data_dir: Path, pages: list[PageItem], run_id: int | None, error: str) -> Path:
    """Keeps pages PostgreSQL refused (bad data, not an outage) under spill/rejected/ for a person."""
    header = {"format": FORMAT, "run_id": run_id, "pages": len(pages), "error": error[:2000]}
    return _write_atomic(spill_dir(data_dir) / "rejected" / _name(run_id), pages, header)


def read_spill(path: Path) -> tuple[int | None, list[PageItem]]:
    """The run id and pages of a spill file."""
    with path.open(encoding="utf-8") as fh:
        try:
            header = json.loads(fh.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise SpillError(f"{path} is not a linkwatch spill file")
            pages = [page_from_json(json.loads(line)) for line in fh if line.strip()]
        except (ValueError, KeyError, TypeError) as exc:
            raise SpillError(f"spill file {path} is damaged ({exc})") from exc
    if len(pages) != header.get("pages"):
        raise SpillError(f"spill file {path} holds {len(pages)} pages, its header says {header.get('pages')}")
    return header.get("run_id"), pages


def pending_spills(data_dir: Path) -> list[Path]:
    """Spill files waiting to be replayed, oldest first."""
    directory = spill_dir(data_dir)
    return sorted(directory.glob("*.jsonl")) if directory.is_dir() else []


def _existing_run(conn: psycopg.Connection, run_id: int | None) -> int | None:
    if run_id is None:
        return None
    row = conn.execute("SELECT 1 FROM crawl_runs WHERE id = %s", (run_id,)).fetchone()
    return run_id if row else None


def replay_file(conn: psycopg.Connection, path: Path) -> StoreResult | None:
    """Stores one spill file and deletes it after the commit; None if another process has it or did it."""
    from linkwatch.db.store import store_batch

    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another linkwatch process is replaying it right now
        if not path.exists() or os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
            return None  # replayed and removed while we waited
        run_id, pages = read_spill(path)
        result = store_batch(conn, pages, _existing_run(conn, run_id))
        path.unlink()  # only after the commit: a crash before this replays again, harmlessly
    return result


def replay_spills(conn: psycopg.Connection, data_dir: Path) -> list[StoreResult]:
    """Replays every pending spill file, oldest first; a damaged file is moved aside and logged.

    A connection error propagates, leaving the files not yet replayed in place.
    """
    results = []
    for path in pending_spills(data_dir):
        try:
            result = replay_file(conn, path)
        except SpillError as exc:
            damaged = path.with_suffix(".damaged")
            path.replace(damaged)
            log.error("%s; moved to %s", exc, damaged)
            continue
        except (psycopg.OperationalError, psycopg.InterfaceError, psycopg.errors.TransactionRollback):
            raise  # an outage or a transient conflict: the file stays for the next attempt
        except (psycopg.Error, KeyError, TypeError, ValueError) as exc:
            # The data itself is refused (by PostgreSQL or as malformed): set it aside so it never
            # blocks the replays after it.
            target = spill_dir(data_dir) / "rejected" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
            log.error("PostgreSQL refused spill file %s (%s); moved to %s", path, exc, target)
            continue
        if result is not None:
            results.append(result)
    return results
