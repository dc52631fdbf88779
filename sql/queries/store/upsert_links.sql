-- One row per canonical URL, sorted for a deterministic lock order. New links are inserted; known
-- ones move their seen range, keep the highest score and add the sightings on page versions new in
-- this batch (sightings on already-stored versions are counted in insert_sightings). A row with
-- nothing to change is not rewritten, but ON CONFLICT still locks it, so the order holds.
-- Returns (distinct links in the batch, links inserted for the first time).
WITH batch AS (
    SELECT s.canonical_url,
           min(s.platform) AS platform, min(s.kind) AS kind, min(s.code) AS code,
           min(p.fetched_at) AS first_seen, max(p.fetched_at) AS last_seen, max(s.score) AS score,
           count(DISTINCT p.page_id) FILTER (WHERE p.is_new) AS new_sightings
    FROM lw_stage_sightings s
    JOIN lw_stage_pages p ON p.ord = s.page_ord
    GROUP BY s.canonical_url
), up AS (
    INSERT INTO links (platform, kind, code, canonical_url, first_seen, last_seen, score, sightings)
    SELECT platform, kind, code, canonical_url, first_seen, last_seen, score, new_sightings
    FROM batch
    ORDER BY canonical_url
    ON CONFLICT (canonical_url) DO UPDATE
    SET first_seen = least(links.first_seen, excluded.first_seen),
        last_seen = greatest(links.last_seen, excluded.last_seen),
        score = greatest(links.score, excluded.score),
        sightings = links.sightings + excluded.sightings
    WHERE excluded.sightings > 0
       OR excluded.last_seen > links.last_seen
       OR excluded.first_seen < links.first_seen
       OR excluded.score > links.score
    RETURNING (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM up WHERE inserted)
