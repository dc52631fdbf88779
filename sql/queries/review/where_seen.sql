-- The most recent sightings of a link, for the reviewer to judge its context.
SELECT s.seen_at, s.context, s.raw, p.url AS page_url, p.title AS page_title, src.name AS source
FROM sightings s
JOIN pages p ON p.id = s.page_id
LEFT JOIN crawl_runs cr ON cr.id = COALESCE(s.crawl_run_id, p.crawl_run_id)
LEFT JOIN sources src ON src.id = cr.source_id
WHERE s.link_id = %(id)s
ORDER BY s.seen_at DESC, s.id DESC
LIMIT %(limit)s
