-- Sightings whose link or page row is gone. The store never makes one (see migration 0006); only a
-- manual DELETE does. Anti-joins on the primary keys: one pass over sightings.
SELECT
    (SELECT count(*) FROM sightings s WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.id = s.link_id)),
    (SELECT count(*) FROM sightings s WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.id = s.page_id))
