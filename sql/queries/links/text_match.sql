-- Links whose sighting context, page title or preview title contains %(text)s (an ILIKE pattern).
-- A UNION of three index-friendly branches: an OR across tables would defeat the trigram indexes.
l.id IN (
    SELECT s.link_id FROM sightings s WHERE s.context ILIKE %(text)s
    UNION
    SELECT s.link_id FROM pages p JOIN sightings s ON s.page_id = p.id WHERE p.title ILIKE %(text)s
    UNION
    SELECT x.id FROM links x WHERE x.preview_title ILIKE %(text)s
)
