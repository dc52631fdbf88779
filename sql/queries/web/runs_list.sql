-- Crawl runs, newest first, optionally of one source, keyset-paginated by id.
SELECT r.id, s.name AS source, r.started_at, r.finished_at, r.status, r.trigger, r.pages, r.links,
       r.new_links, r.errors, r.bytes, r.media_refused, r.host, r.stats
FROM crawl_runs r
JOIN sources s ON s.id = r.source_id
WHERE (%(source)s::text IS NULL OR s.name = %(source)s::text)
  AND (%(before)s::bigint IS NULL OR r.id < %(before)s::bigint)
ORDER BY r.id DESC
LIMIT %(limit)s
