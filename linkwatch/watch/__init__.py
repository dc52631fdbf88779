"""Watching sources: what an incremental crawl needs besides fetching (feeds, sitemaps)."""
