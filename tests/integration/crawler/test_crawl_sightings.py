"""Re-crawling a board whose pages only change in volatile parts: page versions and sightings that mean
something (issue #16). The board (tests/utils/phpbb.py) gives every response a fresh sid, CSRF tokens,
online counter and render time; only the posts a test adds are real changes."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.utils.crawl import run_linkwatch, sources_toml
from tests.utils.phpbb import PhpbbBoard, code

pytestmark = pytest.mark.slow


def _versions(db: str) -> Counter[str]:
    """Stored page versions per path (query kept)."""
    with psycopg.connect(db) as conn:
        rows = conn.execute("SELECT url FROM pages").fetchall()
    out: Counter[str] = Counter()
    for (url,) in rows:
        parts = urlsplit(url)
        out[parts.path + ("?" + parts.query if parts.query else "")] += 1
    return out


def _sightings(db: str) -> dict[str, int]:
    with psycopg.connect(db) as conn:
        return dict(conn.execute("SELECT code, sightings FROM links").fetchall())


def _crawl(board: PhpbbBoard, lw_env: dict[str, str], tmp_path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_toml(board.url, name="phpbb"), encoding="utf-8")
    result = run_linkwatch(["crawl", "phpbb", "--sources", str(sources)], lw_env)
    assert result.returncode == 0, result.stderr


def test_a_recrawl_stores_only_real_changes(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with PhpbbBoard() as board:
        _crawl(board, lw_env, tmp_path)
        first = _versions(db)
        seen = _sightings(db)
        old = {code(t, n) for t in range(6) for n in range(0, 7, 2)}
        assert set(seen) == old
        # topic 0's first code is advertised twice (its post, and again in topic 1); the rest once,
        # however many pages (topic page, permalink view) show the post
        assert seen == {c: 2 if c == code(0, 0) else 1 for c in old}

        board.add_post(0, "a reply without any link")
        board.add_post(3, f"readvertised: t.me/+{code(2, 0)}")
        board.add_topic("Synthetic topic 6", ["brand new: t.me/+PhpbbFreshCodezq"])
        _crawl(board, lw_env, tmp_path)
        second = _versions(db)

    changed = {path for path, n in second.items() if n > first.get(path, 0)}
    last = max(p.id for t in board.topics for p in t.posts)
    # new versions only where posts changed: the board index and the topic list (counts, last post),
    # the last pages of topics 0 and 3, the new topic, and the permalink view of the newest post
    assert changed == {"/", "/index.php", "/viewforum.php?f=1", "/viewtopic.php?t=0&start=5",
                       "/viewtopic.php?t=3&start=5", "/viewtopic.php?t=6", f"/viewtopic.php?p={last}"}, \
        sorted(changed)
    assert all(second[path] == 2 for path in changed if path in first)

    after = _sightings(db)
    expected = dict(seen)
    expected[code(2, 0)] += 1  # re-posted in a new post
    expected["PhpbbFreshCodezq"] = 1
    assert after == expected
