"""robots.txt is checked for every request, also those that arrive together while it downloads.

A distributed worker's first downloads come as a batch from the shared queue; so do a crawl's
start URLs. Scrapy 2.19's middleware checked only one request of such a batch.
"""

from __future__ import annotations

from test_crawl import forum_site, run_linkwatch


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
