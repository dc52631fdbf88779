"""`linkwatch crawl` of a source crawled before: only what can have changed is fetched (issue #16)."""

from __future__ import annotations

from pathlib import Path

from tests.utils.board import Board
from tests.utils.crawl import codes, run_linkwatch, runs


def _sources(tmp_path: Path, url: str, extra: str = "") -> dict[str, str]:
    path = tmp_path / "sources.toml"
    path.write_text(f"""
[[source]]
name = "board"
start_urls = ["{url}/"]
delay = 0.0
concurrency = 4
max_pages = 1000
{extra}
""", encoding="utf-8")
    return {"LINKWATCH_SOURCES": str(path)}


def test_a_second_crawl_of_an_unchanged_forum_fetches_only_its_listings(lw_env, tmp_path: Path) -> None:
    with Board(boards=4, threads=6, pages=3) as board:
        env = {**lw_env, **_sources(tmp_path, board.url)}
        first = run_linkwatch(["crawl", "board"], env)
        assert first.returncode == 0, first.stderr
        full = board.page_requests()
        assert full == len(board.page_paths())
        assert codes(lw_env["LINKWATCH_DATABASE_URL"]) == board.codes()
        second = run_linkwatch(["crawl", "board"], env)
        assert second.returncode == 0, second.stderr
        # the index and the four boards; no topic page again (its 24 first pages were seen, and left)
        assert board.page_requests() - full == 5
        assert "board: incremental crawl · 5 fetched · 24 skipped as unchanged" in second.stdout
        again = run_linkwatch(["crawl", "board", "--full"], env)
        assert again.returncode == 0, again.stderr
        assert board.page_requests() - full - 5 == full
    modes = [(r["mode"], r["pages"], r["skipped_unchanged"]) for r in runs(lw_env["LINKWATCH_DATABASE_URL"])]
    assert modes == [("full", full, 0), ("incremental", 5, 24), ("full", full, 0)]
