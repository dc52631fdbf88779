-- Other links advertised on the same page (any captured version of the page's URL).
SELECT DISTINCT ON (l.id) l.id, l.platform, l.kind, l.code, l.canonical_url AS url, l.preview_title,
       l.first_seen, l.last_seen, l.liveness, ls.status, p.url AS via
FROM sightings s0
JOIN pages p0 ON p0.id = s0.page_id
JOIN pages p ON p.url = p0.url
JOIN sightings s ON s.page_id = p.id
JOIN links l ON l.id = s.link_id
JOIN v_link_status ls ON ls.link_id = l.id
WHERE s0.link_id = %(id)s AND l.id <> %(id)s
ORDER BY l.id
LIMIT %(limit)s
