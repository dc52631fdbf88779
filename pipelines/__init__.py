"""linkwatch's item pipelines: thin adapters from Scrapy to the database layer and the pure rules."""

from __future__ import annotations

from scrapy.crawler import Crawler

from linkwatch.errors import LinkwatchError


class SettingMissingError(LinkwatchError):
    """Raised by a pipeline's from_crawler when a setting it cannot work without is unset."""


def required_setting(crawler: Crawler, name: str) -> str:
    """The crawler's setting `name`; SettingMissingError when it is unset (never read from elsewhere)."""
    value = crawler.settings.get(name)
    if value is None or value == "":
        raise SettingMissingError(f"the Scrapy setting {name} is not set (`linkwatch crawl` sets it)")
    return str(value)
