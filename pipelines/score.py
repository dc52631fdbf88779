"""ScorePipeline (300): scores each link from its context and the page title with the analysts' lexicon."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler

from linkwatch.lexicon import Lexicon, load_lexicon
from linkwatch.records import PageItem
from pipelines import required_setting


class ScorePipeline:
    """Adds `score` (0..1) to every link dict; a malformed lexicon stops the crawl at start-up."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScorePipeline:
        return cls(load_lexicon(Path(required_setting(crawler, "LINKWATCH_LEXICON"))))

    def process_item(self, item: PageItem) -> PageItem:
        for link in item.links:
            link["score"] = self.lexicon.score(link.get("context") or "", item.title or "")
        return item
