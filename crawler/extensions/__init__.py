"""Scrapy extensions: live crawl progress on stderr."""
