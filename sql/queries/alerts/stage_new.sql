-- Before upsert_links: the batch's links not stored yet (new ones), so that enqueue.sql can alert
-- for them. Kept apart from the store's own statements; ON COMMIT DELETE ROWS empties it per batch.
-- Two workers may both see a link as new: UNIQUE (link_id, target) in the outbox keeps one alert.
CREATE TEMP TABLE IF NOT EXISTS lw_stage_new_links (canonical_url text PRIMARY KEY) ON COMMIT DELETE ROWS;
INSERT INTO lw_stage_new_links (canonical_url)
SELECT DISTINCT s.canonical_url
FROM lw_stage_sightings s
WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.canonical_url = s.canonical_url)
ON CONFLICT DO NOTHING
