-- Crawl health per source: its latest run, and the most links any of its five runs before that found.
SELECT s.name,
       s.enabled,
       r.id            AS run_id,
       r.started_at,
       r.finished_at,
       r.status,
       r.trigger,
       r.pages,
       r.links,
       r.new_links,
       r.errors,
       r.media_refused,
       (SELECT max(p.links)
          FROM (SELECT links FROM crawl_runs
                 WHERE source_id = s.id AND id <> r.id AND started_at <= r.started_at
                   AND status <> 'running'
                 ORDER BY started_at DESC LIMIT 5) AS p) AS previous_max_links,
       -- pages with over 1,000 distinct links (pipelines.normalise): a link farm, or a decoy page
       COALESCE((r.stats ->> 'linkwatch/full_pages')::integer, 0) AS full_pages,
       -- the incremental crawl's figures (issue #16)
       r.mode,
       r.skipped_unchanged,
       r.not_modified,
       r.new_pages
FROM sources AS s
LEFT JOIN LATERAL (
    SELECT * FROM crawl_runs WHERE source_id = s.id ORDER BY started_at DESC, id DESC LIMIT 1
) AS r ON true
WHERE (%(include_adhoc)s OR NOT s.adhoc)
  AND (%(names)s::text[] IS NULL OR s.name = ANY(%(names)s::text[]))
ORDER BY s.name
