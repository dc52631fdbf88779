-- Links named on the command line, by id or by canonical URL.
SELECT id, platform, kind, code, canonical_url, liveness, first_seen
FROM links
WHERE id = ANY(%(ids)s::bigint[]) OR canonical_url = ANY(%(urls)s::text[])
ORDER BY id
