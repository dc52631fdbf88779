-- The links seen on one captured page, in the order they were stored.
SELECT l.id, l.platform, l.kind, l.code, l.canonical_url AS url, s.raw, s.found_in, s.obfuscated
FROM sightings s
JOIN links l ON l.id = s.link_id
WHERE s.page_id = %(id)s
ORDER BY s.id
LIMIT 200
