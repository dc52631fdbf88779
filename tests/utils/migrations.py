"""The SQL directory as an older linkwatch had it, for tests of a migration on existing data."""

from __future__ import annotations

import shutil
from pathlib import Path

from linkwatch.db.sql import SQL_DIR


def sql_before(tmp_path: Path, first: str) -> Path:
    """A copy of sql/ without the migrations from `first` on (e.g. "0007"), for a database as an older
    linkwatch left it; v_sightings then leaves out sightings.post_key when 0011 is among them."""
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    for path in (copy / "migrations").glob("*.sql"):
        if path.name >= first:
            path.unlink()
    if first <= "0011":
        view = copy / "views" / "v_sightings.sql"
        lines = view.read_text(encoding="utf-8").replace("AS source,\n", "AS source\n").splitlines(True)
        view.write_text("".join(line for line in lines if "s.post_key" not in line), encoding="utf-8")
    return copy
