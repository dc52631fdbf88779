"""Watching a forum: the incremental crawl's planning (pure logic) and listing structure."""
