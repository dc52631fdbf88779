-- The link %(reviewer)s holds a live lease on, if it still needs their decision; the lease is renewed.
UPDATE triage_leases t
SET expires_at = now() + %(lease_seconds)s * interval '1 second'
FROM links l
WHERE t.reviewer = %(reviewer)s
  AND t.expires_at > now()
  AND l.id = t.link_id
  AND l.status = 'new'
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.link_id = l.id AND r.reviewer = %(reviewer)s)
RETURNING t.link_id
