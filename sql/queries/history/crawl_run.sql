-- `linkwatch runs show RUN`: one crawl run with its Scrapy stats.
SELECT r.id, s.name AS source, s.adhoc, r.trigger, r.status, r.started_at, r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds,
       r.pages, r.links, r.new_links, r.errors, r.bytes,
       r.media_refused, r.mode, r.skipped_unchanged, r.not_modified, r.new_pages, r.host, r.pid, r.jobdir,
       r.stats
FROM crawl_runs r
JOIN sources s ON s.id = r.source_id
WHERE r.id = %(id)s
