-- `linkwatch runs`: crawl runs, newest first, by source, outcome and start time.
SELECT r.id, s.name AS source, r.trigger, r.status, r.started_at, r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds,
       r.pages, r.links, r.new_links, r.errors, r.bytes,
       r.media_refused, r.host, r.pid
FROM crawl_runs r
JOIN sources s ON s.id = r.source_id
WHERE (%(sources)s::text[] IS NULL OR s.name = ANY(%(sources)s::text[]))
  AND (%(statuses)s::text[] IS NULL OR r.status = ANY(%(statuses)s::text[]))
  AND (%(since)s::timestamptz IS NULL OR r.started_at >= %(since)s::timestamptz)
ORDER BY r.started_at DESC, r.id DESC
LIMIT %(limit)s
