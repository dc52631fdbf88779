-- Links named on the command line (already resolved to ids by linkwatch.db.links.find_links).
SELECT id, platform, kind, code, canonical_url, liveness, first_seen
FROM links
WHERE id = ANY(%(ids)s::bigint[])
ORDER BY id
