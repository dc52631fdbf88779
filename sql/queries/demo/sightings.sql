-- Every sighting the given crawl runs stored: what `linkwatch demo` shows in its table.
SELECT l.platform, l.kind, l.code, l.canonical_url, s.found_in, s.obfuscated, p.url
FROM sightings s
JOIN links l ON l.id = s.link_id
JOIN pages p ON p.id = s.page_id
WHERE s.crawl_run_id = ANY(%(run_ids)s)
ORDER BY p.url, l.canonical_url
