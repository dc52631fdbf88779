"""Spill files under <data dir>/spill/: pages PostgreSQL refused (set aside for a person under rejected/),
and batches earlier versions of linkwatch wrote during an outage (still replayed, never written now)."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from linkwatch.errors import LinkwatchError
from linkwatch.records import Page

FORMAT = "linkwatch-spill/1"
_seq = itertools.count()


class SpillError(LinkwatchError):
    """Raised by read_spill() when a spill file is not one linkwatch wrote; the message names the file."""


def spill_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "spill"


def _write_atomic(path: Path, pages: list[Page], header: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        # ensure_ascii keeps any stray surrogate escaped rather than failing the write
        fh.write(json.dumps(header) + "\n")
        for page in pages:
            fh.write(json.dumps(page.to_json()) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)  # a reader never sees half a file
    return path


def _name(run_id: int | None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{stamp}-{time.monotonic_ns() % 10**9:09d}-{os.getpid()}-{next(_seq):06d}-run{run_id or 0}.jsonl"


def reject(data_dir: Path, pages: list[Page], run_id: int | None, error: str) -> Path:
    """Keeps pages PostgreSQL refused (bad data, not an outage) under spill/rejected/ for a person."""
    header = {"format": FORMAT, "run_id": run_id, "pages": len(pages), "error": error[:2000]}
    return _write_atomic(spill_dir(data_dir) / "rejected" / _name(run_id), pages, header)


def read_spill(path: Path) -> tuple[int | None, list[Page]]:
    """The run id and pages of a spill file."""
    with path.open(encoding="utf-8") as fh:
        try:
            header = json.loads(fh.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise SpillError(f"{path} is not a linkwatch spill file")
            pages = [Page.from_json(json.loads(line)) for line in fh if line.strip()]
        except (ValueError, KeyError, TypeError) as exc:
            raise SpillError(f"spill file {path} is damaged ({exc})") from exc
    if len(pages) != header.get("pages"):
        raise SpillError(f"spill file {path} holds {len(pages)} pages, its header says {header.get('pages')}")
    return header.get("run_id"), pages


def pending_spills(data_dir: Path) -> list[Path]:
    """Spill files waiting to be replayed, oldest first."""
    directory = spill_dir(data_dir)
    return sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
