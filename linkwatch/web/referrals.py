"""A weekly referral's files as the console serves them: only the recorded files, digest-checked."""

from __future__ import annotations

from pathlib import Path

import psycopg

from linkwatch.db import console as read
from linkwatch.jobs.report import sha256_file
from linkwatch.web.errors import ConflictError, NotFoundError

MEDIA = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".jsonl": "application/x-ndjson; charset=utf-8",
    ".json": "application/json",
}


def manifest_name(period: str) -> str:
    return f"linkwatch-referral-{period}-manifest.json"


def referral_file(conn: psycopg.Connection, period: str, name: str) -> tuple[Path, str, str]:
    """(path, sha256, media type) of one of the referral's files.

    Only names the referral recorded (and its manifest) are served, from the directory it recorded;
    a recorded file whose bytes no longer match its recorded sha256 is refused, not sent.
    """
    referral = read.referral(conn, period)
    if referral is None:
        raise NotFoundError(f"there is no referral for {period[:20]!r}")
    files: dict[str, str] = referral["files"] or {}
    if name not in files and name != manifest_name(referral["period"]):
        raise NotFoundError(f"referral {referral['period']} has no file {name[:80]!r}")
    if not referral["out_dir"]:
        raise NotFoundError(f"referral {referral['period']} recorded no directory for its files")
    base = Path(referral["out_dir"]).resolve()
    path = (base / name).resolve()
    if path.parent != base:
        raise NotFoundError(f"referral {referral['period']} has no file {name[:80]!r}")
    if not path.is_file():
        raise NotFoundError(f"{name} is not on this host any more (it was written to {base})")
    digest = sha256_file(path)
    if name in files and files[name] != digest:
        raise ConflictError(f"{name} no longer matches the sha256 recorded when it was written; it was "
                            "changed after the export and is not served")
    return path, digest, MEDIA.get(path.suffix, "application/octet-stream")
