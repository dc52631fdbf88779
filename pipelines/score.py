"""ScorePipeline (300): scores each link from its context and the page title with the analysts' lexicon."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler

from crawler.config import get_config
from crawler.items import PageItem
from crawler.scoring import Lexicon, load_lexicon


class ScorePipeline:
    """Adds `score` (0..1) to every link dict; a malformed lexicon stops the crawl at start-up."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScorePipeline:
        path = crawler.settings.get("LINKWATCH_LEXICON") or get_config().lexicon
        return cls(load_lexicon(Path(path)))

    def process_item(self, item: PageItem) -> PageItem:
        for link in item.links:
            link["score"] = self.lexicon.score(link.get("context") or "", item.title or "")
        return item
