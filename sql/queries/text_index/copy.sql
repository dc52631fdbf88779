-- Copies the contexts of the oldest queued sighting ranges into sighting_texts (and so into its
-- trigram index) and takes the ranges off the queue, in one transaction (migration 0007).
-- SKIP LOCKED: the indexers of concurrent crawls share the queue without waiting on each other.
-- Ranges of concurrent writers can overlap; a sighting already copied is left as it is.
-- Returns the number of ranges done (0: the queue is empty, or held by another indexer).
WITH taken AS (
    DELETE FROM sighting_text_queue
    WHERE id IN (SELECT id FROM sighting_text_queue ORDER BY id LIMIT %(ranges)s FOR UPDATE SKIP LOCKED)
    RETURNING first_id, last_id
), copied AS (
    INSERT INTO sighting_texts (sighting_id, link_id, context)
    SELECT DISTINCT ON (s.id) s.id, s.link_id, s.context
    FROM taken t
    JOIN sightings s ON s.id BETWEEN t.first_id AND t.last_id
    ORDER BY s.id
    ON CONFLICT (sighting_id) DO NOTHING
)
SELECT count(*) FROM taken
