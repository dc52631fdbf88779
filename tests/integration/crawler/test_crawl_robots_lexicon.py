"""Crawl safety fixes: robots.txt for requests that arrive together, and malformed lexicons.

A distributed worker's first downloads come as a batch from the shared queue; so do a crawl's
start URLs. Scrapy 2.19's middleware checked only one request of such a batch against robots.txt.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.utils import forum as forum_site
from tests.utils.crawl import run_linkwatch, sources_toml


def test_requests_waiting_for_robots_txt_are_all_checked(lw_env, tmp_path) -> None:
    with forum_site.TestForum() as forum:
        starts = ", ".join(f'"{forum.url}{p}"' for p in ("/", "/private/secret", "/private/other", "/slow"))
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "r"\nstart_urls = [{starts}]\ndelay = 0.0\nconcurrency = 4\nmax_depth = 0\n',
            encoding="utf-8",
        )
        result = run_linkwatch(["crawl", "r", "--sources", str(sources)], lw_env)
        fetched = forum.paths()
    assert result.returncode == 0, result.stderr
    assert fetched.count("/robots.txt") == 1
    assert {"/", "/slow"} <= set(fetched)
    assert [p for p in fetched if p.startswith("/private/")] == []


@pytest.mark.redis
@pytest.mark.parametrize("distributed", [False, True], ids=["single", "distributed"])
def test_a_malformed_lexicon_stops_the_crawl_before_it_starts(lw_env, redis_url, tmp_path, distributed):
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text('[[term]]\nterm = "deepfake"\nweight = 7\nnote = "synthetic test term"\n',
                       encoding="utf-8")
    with forum_site.TestForum() as forum:
        sources = tmp_path / "sources.toml"
        sources.write_text(sources_toml(forum.url, name="lex"), encoding="utf-8")
        args = ["crawl", "lex", "--sources", str(sources)] + (["--redis", redis_url] if distributed else [])
        result = run_linkwatch(args, {**lw_env, "LINKWATCH_LEXICON": str(lexicon)})
        fetched = forum.paths()
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: lexicon file {lexicon}: term #1 ('deepfake') needs a `weight` between 0 and 1, got 7"
    )
    assert fetched == []
    with psycopg.connect(lw_env["LINKWATCH_DATABASE_URL"]) as conn:
        assert conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == 0
