"""Watching a forum: the incremental crawl's planning and listing rows (pure logic), feeds and sitemaps."""
