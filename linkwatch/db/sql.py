"""The one SQL loader: migrations, views and named queries from the project's `sql/` directory."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import linkwatch


def sql_dir() -> Path:
    """Where the SQL files are: inside the installed package (a wheel maps `sql/` to `linkwatch/sql`),
    else the repository's top-level `sql/` (a source tree or an editable install)."""
    packaged = Path(linkwatch.__file__).resolve().parent / "sql"
    if packaged.is_dir():
        return packaged
    return Path(linkwatch.__file__).resolve().parents[1] / "sql"


SQL_DIR = sql_dir()


@cache
def query(area: str, name: str) -> str:
    """The text of sql/queries/<area>/<name>.sql (cached for the process)."""
    return (SQL_DIR / "queries" / area / f"{name}.sql").read_text(encoding="utf-8")
