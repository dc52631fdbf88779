-- Every link (optionally of one platform) for `check` without --due: unchecked first, then oldest check.
SELECT id, platform, kind, code, canonical_url, liveness, first_seen
FROM links
WHERE (%(platform)s::text IS NULL OR platform = %(platform)s::text)
ORDER BY (liveness = 'unchecked') DESC, checked_at NULLS FIRST, id
LIMIT %(limit)s
