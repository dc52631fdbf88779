-- Claims for %(reviewer)s the highest-scored new link they have neither decided on nor skipped
-- lately and that nobody holds. FOR UPDATE SKIP LOCKED: two analysts claiming at the same moment
-- lock different link rows, so they never pick the same link; the lease row then keeps the claim
-- after this transaction. ON CONFLICT only takes over a lease that has expired (or is the
-- reviewer's own): a claimer whose snapshot missed a lease committed a moment ago gets nothing back
-- and tries again.
WITH candidate AS (
    SELECT l.id
    FROM links l
    WHERE l.status = 'new'
      AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.link_id = l.id AND r.reviewer = %(reviewer)s)
      AND NOT EXISTS (SELECT 1 FROM triage_skips k
                      WHERE k.link_id = l.id AND k.reviewer = %(reviewer)s
                        AND k.skipped_at > now() - %(skip_seconds)s * interval '1 second')
      AND NOT EXISTS (SELECT 1 FROM triage_leases t WHERE t.link_id = l.id AND t.expires_at > now())
    ORDER BY l.score DESC, l.id
    LIMIT 1
    FOR UPDATE OF l SKIP LOCKED
)
INSERT INTO triage_leases (link_id, reviewer, claimed_at, expires_at)
SELECT id, %(reviewer)s, now(), now() + %(lease_seconds)s * interval '1 second' FROM candidate
ON CONFLICT (link_id) DO UPDATE
SET reviewer = EXCLUDED.reviewer, claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at
WHERE triage_leases.expires_at <= now() OR triage_leases.reviewer = EXCLUDED.reviewer
RETURNING link_id
