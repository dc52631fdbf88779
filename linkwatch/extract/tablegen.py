"""Derive the extractor's Unicode tables and write them where `tables` reads them (`make tables`)."""

from __future__ import annotations

import json
from pathlib import Path

from .lookalike import derive_lookalikes
from .normalize import derive_changeable
from .prefilter import special_chars
from .tables import source, versions


def derive() -> dict[str, object]:
    """Every table, derived from this process's data (what `tables.stored` stands in for)."""
    looks = derive_lookalikes()
    return {
        "versions": versions(),
        "special": sorted(ord(c) for c in special_chars()),
        "changeable": derive_changeable(looks),
        "lookalikes": looks,
    }


def write(path: Path | None = None) -> Path:
    """Write the derived tables into the package's data (or `path`); returns where."""
    path = path or source()
    path.write_text(json.dumps(derive(), ensure_ascii=True, separators=(",", ":")) + "\n", "utf-8")
    return path
