-- One export row per link in %(ids)s: the link, its distinct advertising posts (first N, in the
-- order first seen), how many there are, its sighting count and the sha256 of its first capture.
SELECT
    l.id, l.platform, l.kind, l.canonical_url AS url, l.code, l.category,
    l.first_seen, l.last_seen, l.liveness, l.checked_at, l.preview_title, l.member_count,
    agg.sightings, agg.post_count, posts.urls AS post_urls, first_capture.sha256 AS first_capture_sha256
FROM links l
LEFT JOIN LATERAL (
    SELECT count(*) AS sightings, count(DISTINCT p.url) AS post_count
    FROM sightings s JOIN pages p ON p.id = s.page_id
    WHERE s.link_id = l.id
) agg ON true
LEFT JOIN LATERAL (
    SELECT array_agg(x.url ORDER BY x.first_at, x.url) AS urls
    FROM (
        SELECT p.url, min(s.seen_at) AS first_at
        FROM sightings s JOIN pages p ON p.id = s.page_id
        WHERE s.link_id = l.id
        GROUP BY p.url
        ORDER BY min(s.seen_at), p.url
        LIMIT %(max_posts)s
    ) x
) posts ON true
LEFT JOIN LATERAL (
    SELECT p.sha256
    FROM sightings s JOIN pages p ON p.id = s.page_id
    WHERE s.link_id = l.id
    ORDER BY s.seen_at, p.fetched_at, s.id
    LIMIT 1
) first_capture ON true
WHERE l.id = ANY(%(ids)s)
