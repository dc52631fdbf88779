"""A linkwatch crawl of the moving forum (tests/utils/moving.py) finds every advert, before and after."""

from __future__ import annotations

from tests.utils.crawl import codes, run_linkwatch, write_sources
from tests.utils.moving import MovingForum


def test_a_crawl_finds_every_advert_and_a_second_crawl_the_new_ones(lw_env, tmp_path) -> None:
    db = lw_env["LINKWATCH_DATABASE_URL"]
    with MovingForum(boards=2, topics=40, per_page=10, posts_per_page=5, max_posts=25) as forum:
        path = write_sources(tmp_path, forum.url, name="moving", max_depth=20, max_pages=2000)
        first = run_linkwatch(["crawl", "moving", "--sources", str(path)], lw_env)
        assert first.returncode == 0, first.stderr
        assert codes(db) == forum.codes()
        assert forum.stats()["by_kind"]["topic"] == len([u for u in forum.page_urls() if "viewtopic" in u])
        change = forum.advance(new_topics=3, new_replies=5, deep=3)
        assert len(change.deep) == 3
        second = run_linkwatch(["crawl", "moving", "--sources", str(path)], lw_env)
        assert second.returncode == 0, second.stderr
        assert change.codes <= codes(db)
        assert codes(db) == forum.codes()
