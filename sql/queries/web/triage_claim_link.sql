-- Claims one named link for %(reviewer)s (moving through the queue with j/k): the same rules as
-- triage_claim_next.sql, for one link; nothing comes back when someone else holds it.
WITH candidate AS (
    SELECT l.id
    FROM links l
    WHERE l.id = %(link_id)s
      AND l.status = 'new'
      AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.link_id = l.id AND r.reviewer = %(reviewer)s)
    FOR UPDATE OF l SKIP LOCKED
)
INSERT INTO triage_leases (link_id, reviewer, claimed_at, expires_at)
SELECT id, %(reviewer)s, now(), now() + %(lease_seconds)s * interval '1 second' FROM candidate
ON CONFLICT (link_id) DO UPDATE
SET reviewer = EXCLUDED.reviewer, claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at
WHERE triage_leases.expires_at <= now() OR triage_leases.reviewer = EXCLUDED.reviewer
RETURNING link_id
