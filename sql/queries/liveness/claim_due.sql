-- Due links for `check --due`, claimed with a short lease on next_check_at so that two checkers
-- running at once never check the same link. Unchecked links first, then the longest overdue.
-- A link is due when next_check_at has passed, or when it was never checked and has no lease.
WITH due AS (
    SELECT id
    FROM links
    WHERE COALESCE(next_check_at <= now(), liveness = 'unchecked')
      AND (%(platform)s::text IS NULL OR platform = %(platform)s::text)
    ORDER BY (liveness = 'unchecked') DESC, next_check_at NULLS FIRST, first_seen, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE links AS l
SET next_check_at = now() + make_interval(secs => %(lease_seconds)s)
FROM due
WHERE l.id = due.id
RETURNING l.id, l.platform, l.kind, l.code, l.canonical_url, l.liveness, l.first_seen
