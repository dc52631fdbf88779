-- One row per canonical URL, sorted for a deterministic lock order. New links are inserted; known
-- ones move their seen range and keep the highest score. Sightings are counted in insert_sightings,
-- by the posts it really adds, on the rows locked here. A row with nothing to change is not
-- rewritten, but ON CONFLICT still locks it, so the order holds.
-- Returns (distinct links in the batch, links inserted for the first time).
WITH batch AS (
    SELECT s.canonical_url,
           min(s.platform) AS platform, min(s.kind) AS kind, min(s.code) AS code,
           min(p.fetched_at) AS first_seen, max(p.fetched_at) AS last_seen, max(s.score) AS score
    FROM lw_stage_sightings s
    JOIN lw_stage_pages p ON p.ord = s.page_ord
    GROUP BY s.canonical_url
), up AS (
    INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, score, sightings)
    SELECT platform, kind, code, canonical_url, first_seen, last_seen, score, 0
    FROM batch
    ORDER BY canonical_url
    ON CONFLICT (canonical_url) DO UPDATE
    SET first_seen = least(links.first_seen, excluded.first_seen),
        last_seen = greatest(links.last_seen, excluded.last_seen),
        score = greatest(links.score, excluded.score)
    WHERE excluded.last_seen > links.last_seen
       OR excluded.first_seen < links.first_seen
       OR excluded.score > links.score
    RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM up WHERE inserted)
