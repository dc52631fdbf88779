"""Crawl details: forum search URLs from the lexicon, shortener resolution, progress on stderr."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from scrapy import Request
from scrapy.http import Response

from crawler.spiders.forum import ForumSpider
from linkwatch.config import DATA_FILES
from linkwatch.lexicon import load_lexicon
from linkwatch.records import Page
from linkwatch.sources import Source
from tests.utils import forum as forum_site
from tests.utils.crawl import run_linkwatch


def test_search_urls_are_filled_with_lexicon_terms_and_progress_is_shown(lw_env, tmp_path) -> None:
    terms = load_lexicon(DATA_FILES / "lexicon.toml").search_terms()
    assert terms, "the bundled lexicon flags search terms"
    with forum_site.TestForum() as forum:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "s"\nstart_urls = ["{forum.url}/board/kr"]\ndelay = 0.0\n'
            f'search_urls = ["{forum.url}/search?q={{keyword}}"]\nmax_depth = 0\n',
            encoding="utf-8",
        )
        result = run_linkwatch(["crawl", "s", "--sources", str(sources)], lw_env)
        searched = set(forum.paths("/search"))
    assert result.returncode == 0, result.stderr
    assert searched == {f"/search?q={quote(t, safe='')}" for t in terms}
    assert "[s] 1/1000 pages · 1 link (1 new)" in result.stderr  # live progress of the budget, final line


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, n: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + n


class _Crawler:
    stats = _Stats()


def test_shorteners_are_resolved_with_one_head_each_and_judged_by_the_extractor() -> None:
    spider = ForumSpider(Source(name="x", start_urls=["http://forum.test/"]))
    spider.crawler = _Crawler()
    item = Page(url="http://forum.test/t/1", fetched_at=datetime.now(UTC), status=200,
                content_type="text/html", body=b"")
    first = spider._shortener_request(item, ["https://bit.ly/lwA", "https://han.gl/lwB"])
    assert first.method == "HEAD"
    assert first.meta["dont_redirect"] is True
    assert first.meta["allow_offsite"] is True

    def answer(request: Request, location: str | None) -> list:
        headers = {"Location": location} if location else {}
        response = Response(request.url, status=301, headers=headers, request=request)
        return list(spider.shortener_resolved(response, **request.cb_kwargs))

    (second,) = answer(first, "https://t.me/+LwShortened1Abc")
    assert second.url == "https://han.gl/lwB"
    (done,) = answer(second, "https://example.org/not-a-chat")
    assert done.url == item.url  # the page item is handed on after its last shortener
    (link,) = done.links
    assert link.code == "LwShortened1Abc"
    assert link.where == "redirect"
    assert link.raw == "https://bit.ly/lwA"
