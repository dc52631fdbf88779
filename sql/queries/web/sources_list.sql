-- Every source with its settings (as stored by the last crawl that used them).
SELECT s.id, s.name, s.enabled, s.adhoc, s.config, s.created_at, s.updated_at,
       (SELECT count(*) FROM crawl_runs r WHERE r.source_id = s.id) AS runs
FROM sources s
ORDER BY s.adhoc, s.name
