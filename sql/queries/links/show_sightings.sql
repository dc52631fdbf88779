-- Every sighting of a link with its evidence page, oldest first.
SELECT
    s.id, s.seen_at, s.raw, s.obfuscated, s.found_in, s.context,
    p.id AS page_id, p.url AS page_url, p.title AS page_title, p.sha256 AS page_sha256,
    p.fetched_at AS page_fetched_at, p.http_status, p.warc_file,
    src.name AS source
FROM sightings s
JOIN pages p ON p.id = s.page_id
LEFT JOIN crawl_runs cr ON cr.id = COALESCE(s.crawl_run_id, p.crawl_run_id)
LEFT JOIN sources src ON src.id = cr.source_id
WHERE s.link_id = %(id)s
ORDER BY s.seen_at, s.id
