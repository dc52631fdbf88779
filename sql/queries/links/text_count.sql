-- Sightings whose context contains %(text)s, counted through the copy's trigram index and no
-- further than %(limit)s: search() uses it to choose between text_match.sql and text_probe.sql.
-- A rare term is counted exactly in milliseconds; a common one stops at the limit.
SELECT count(*) FROM (
    SELECT 1 FROM sighting_texts WHERE context ILIKE %(text)s LIMIT %(limit)s
) AS matches
