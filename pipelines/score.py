"""ScorePipeline (300): scores each link from its context and the page title with the analysts' lexicon."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from scrapy.crawler import Crawler

from linkwatch.lexicon import Lexicon, load_lexicon
from linkwatch.records import Page
from pipelines import required_setting


class ScorePipeline:
    """Adds `score` (0..1) to every link dict; a malformed lexicon stops the crawl at start-up."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScorePipeline:
        return cls(load_lexicon(Path(required_setting(crawler, "LINKWATCH_LEXICON"))))

    def process_item(self, item: Page) -> Page:
        title = item.title or ""
        links = tuple(replace(link, score=self.lexicon.score(link.context, title)) for link in item.links)
        return replace(item, links=links)
