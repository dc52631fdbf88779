-- One export row per link in %(ids)s, in that order: the link, its distinct advertising posts (the
-- first N, in the order first seen), how many there are, its sighting count and the sha256 of its
-- first capture. Per link, index lookups on sightings (link_id, seen_at) and pages: the cost follows
-- the links asked for, so the export reads it in small chunks and writes the first while the next
-- is read.
SELECT
    l.id, l.platform, l.kind, l.canonical_url AS url, l.code, l.category,
    l.first_seen, l.last_seen, l.liveness, l.checked_at, l.preview_title, l.member_count,
    COALESCE(posts.sightings, 0) AS sightings, COALESCE(posts.post_count, 0) AS post_count,
    posts.urls AS post_urls, first_capture.sha256 AS first_capture_sha256
FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS wanted (id, ord)
JOIN links l ON l.id = wanted.id
LEFT JOIN LATERAL (
    SELECT sum(per_url.n)::bigint AS sightings, count(*) AS post_count,
           (array_agg(per_url.url ORDER BY per_url.first_at, per_url.url))[1:%(max_posts)s] AS urls
    FROM (
        SELECT p.url, count(*) AS n, min(s.seen_at) AS first_at
        FROM sightings s JOIN pages p ON p.id = s.page_id
        WHERE s.link_id = l.id
        GROUP BY p.url
    ) per_url
) posts ON true
LEFT JOIN LATERAL (
    SELECT p.sha256
    FROM sightings s JOIN pages p ON p.id = s.page_id
    WHERE s.link_id = l.id
    ORDER BY s.seen_at, p.fetched_at, s.id
    LIMIT 1
) first_capture ON true
ORDER BY wanted.ord
