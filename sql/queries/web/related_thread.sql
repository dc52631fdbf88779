-- Other links advertised on other pages of the same thread (lw_thread_key, migration 0010) that
-- the same crawls captured: the thread's later pages carry its re-issued codes. Per crawl run, only
-- the run's pages whose URL starts like the thread's (its key without query or extension) are keyed:
-- the regular expressions run on a handful of URLs, not on every page of the run (MATERIALIZED: each
-- prefix is computed once, not again for every page it is compared with).
WITH mine AS MATERIALIZED (
    SELECT DISTINCT p0.url, lw_thread_key(p0.url) AS thread, p0.crawl_run_id
    FROM (
        SELECT s0.page_id FROM sightings s0 WHERE s0.link_id = %(id)s
        ORDER BY s0.seen_at DESC LIMIT 50
    ) recent
    JOIN pages p0 ON p0.id = recent.page_id
    WHERE p0.crawl_run_id IS NOT NULL
), keyed AS MATERIALIZED (
    SELECT url, thread, crawl_run_id,
           regexp_replace(split_part(thread, '?', 1), '\.[a-z]{2,5}$', '', 'i') AS prefix
    FROM mine
), thread_pages AS (
    SELECT DISTINCT p.id, p.url
    FROM keyed m
    CROSS JOIN LATERAL (
        SELECT p.id, p.url FROM pages p
        WHERE p.crawl_run_id = m.crawl_run_id AND starts_with(p.url, m.prefix) AND p.url <> m.url
        OFFSET 0
    ) p
    WHERE lw_thread_key(p.url) = m.thread
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
