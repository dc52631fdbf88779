-- The links seen on one captured page, in the order they were stored: once each, although a link
-- in two posts of the page is two sightings (issue #16).
SELECT id, platform, kind, code, url, raw, found_in, obfuscated
FROM (
    SELECT DISTINCT ON (l.id) l.id, l.platform, l.kind, l.code, l.canonical_url AS url, s.raw,
           s.found_in, s.obfuscated, s.id AS sighting_id
    FROM sightings s
    JOIN links l ON l.id = s.link_id
    WHERE s.page_id = %(id)s
    ORDER BY l.id, s.id
) first_sightings
ORDER BY sighting_id
LIMIT 200
