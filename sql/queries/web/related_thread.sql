-- Other links advertised on other pages of the same thread (lw_thread_key, migration 0008) that
-- the same crawls captured: the thread's later pages carry its re-issued codes.
WITH mine AS (
    SELECT DISTINCT p0.url, lw_thread_key(p0.url) AS thread, p0.crawl_run_id
    FROM sightings s0
    JOIN pages p0 ON p0.id = s0.page_id
    WHERE s0.link_id = %(id)s AND p0.crawl_run_id IS NOT NULL
), thread_pages AS (
    SELECT DISTINCT p.id, p.url
    FROM mine m
    JOIN pages p ON p.crawl_run_id = m.crawl_run_id
    WHERE p.url <> m.url AND lw_thread_key(p.url) = m.thread
)
SELECT DISTINCT ON (l.id) l.id, l.platform, l.kind, l.code, l.canonical_url AS url, l.preview_title,
       l.first_seen, l.last_seen, l.liveness, ls.status, tp.url AS via
FROM thread_pages tp
JOIN sightings s ON s.page_id = tp.id
JOIN links l ON l.id = s.link_id
JOIN v_link_status ls ON ls.link_id = l.id
WHERE l.id <> %(id)s
ORDER BY l.id
LIMIT %(limit)s
