"""Running `linkwatch` as a user would (a subprocess) and reading what a crawl stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

LINKWATCH = str(Path(sys.executable).parent / "linkwatch")
MAX_DEPTH = 6
UA = "linkwatch-test/1 (+ops@example.invalid)"


def sources_toml(url: str, *, name: str = "tf", render: str = "static", extra: str = "",
                 max_depth: int = MAX_DEPTH, max_pages: int = 300) -> str:
    return f"""
[[source]]
name = "{name}"
start_urls = ["{url}/"]
render = "{render}"
delay = 0.0
concurrency = 4
max_depth = {max_depth}
max_pages = {max_pages}
{extra}
"""


def write_sources(tmp_path: Path, url: str, **options: Any) -> Path:
    """tmp_path/sources.toml with one source (sources_toml's options)."""
    path = tmp_path / "sources.toml"
    path.write_text(sources_toml(url, **options), encoding="utf-8")
    return path


def run_linkwatch(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env, "LINKWATCH_USER_AGENT": UA}
    return subprocess.run(
        [LINKWATCH, *args], env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def codes(db: str) -> set[str]:
    with psycopg.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT code FROM links")}


def runs(db: str) -> list[dict]:
    with psycopg.connect(db) as conn:
        cur = conn.execute(
            "SELECT r.*, s.name AS source, s.adhoc FROM crawl_runs r JOIN sources s ON s.id = r.source_id "
            "ORDER BY r.id"
        )
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur]


def count(db: str, query: str, *params: object) -> int:
    with psycopg.connect(db) as conn:
        return conn.execute(query, params).fetchone()[0]
