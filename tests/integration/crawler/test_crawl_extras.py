"""Crawl details: forum search URLs from the lexicon, shortener resolution (once per crawl), progress."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from scrapy import Request
from scrapy.http import HtmlResponse, Response

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

    def set_value(self, key: str, value: object) -> None:
        self.values[key] = value


class _Engine:
    """Answers the spider's HEAD requests as shorteners do (301 to the target); counts them."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = targets
        self.requests: list[Request] = []

    async def download_async(self, request: Request) -> Response:
        self.requests.append(request)
        await asyncio.sleep(0.01)  # the three pages' requests overlap
        return Response(request.url, status=301, headers={"Location": self.targets[request.url]},
                        request=request)


class _Crawler:
    def __init__(self, engine: _Engine) -> None:
        self.stats = _Stats()
        self.engine = engine


def _page(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url, body=body.encode(), headers={"Content-Type": "text/html; charset=utf-8"},
                        request=Request(url, meta={"lw_depth": 0}))


async def _items(spider: ForumSpider, response: HtmlResponse) -> list[Page]:
    return [x async for x in spider.parse(response) if isinstance(x, Page)]


def test_a_shortener_on_three_pages_is_resolved_once_per_crawl() -> None:
    spider = ForumSpider(Source(name="x", start_urls=["http://forum.test/"], max_depth=0))
    engine = _Engine({"https://bit.ly/lwA": "https://t.me/+LwShortened1Abc",
                      "https://han.gl/lwB": "https://example.org/not-a-chat"})
    spider.crawler = _Crawler(engine)
    body = "<p>see bit.ly/lwA and https://han.gl/lwB</p>"
    pages = [_page(f"http://forum.test/t/{n}", body) for n in range(3)]

    async def crawl() -> list[list[Page]]:
        return await asyncio.gather(*[_items(spider, p) for p in pages])

    results = asyncio.run(crawl())
    # one HEAD per shortener for the whole crawl, never following its redirect
    assert sorted(r.url for r in engine.requests) == ["https://bit.ly/lwA", "https://han.gl/lwB"]
    assert {r.method for r in engine.requests} == {"HEAD"}
    assert all(r.meta["dont_redirect"] and r.meta["allow_offsite"] for r in engine.requests)
    for (item,) in results:
        (link,) = item.links  # each page still has the link its shortener leads to
        assert link.code == "LwShortened1Abc"
        assert link.where == "redirect"
        assert link.raw == "https://bit.ly/lwA"
    assert spider.crawler.stats.values["linkwatch/shorteners_resolved"] == 2
