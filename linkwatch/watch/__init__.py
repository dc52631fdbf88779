"""Watching a forum: the incremental crawl's planning and listing structure (pure logic), feeds and sitemaps."""
