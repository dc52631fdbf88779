-- Links whose sighting context, page title or preview title contains %(text)s (an ILIKE pattern).
-- A UNION of index-friendly branches: an OR across tables would defeat the trigram indexes.
-- Contexts are searched in their copy in sighting_texts (migration 0007), plus the sightings of
-- the few ranges still queued for it, read range by range through the primary key.
l.id IN (
    SELECT t.link_id FROM sighting_texts t WHERE t.context ILIKE %(text)s
    UNION
    SELECT s.link_id
    FROM sighting_text_queue q
    CROSS JOIN LATERAL (
        SELECT s.link_id FROM sightings s
        WHERE s.id BETWEEN q.first_id AND q.last_id AND s.context ILIKE %(text)s
        OFFSET 0
    ) s
    UNION
    SELECT s.link_id FROM pages p JOIN sightings s ON s.page_id = p.id WHERE p.title ILIKE %(text)s
    UNION
    SELECT x.id FROM links x WHERE x.preview_title ILIKE %(text)s
)
