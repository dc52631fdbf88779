-- The head of %(reviewer)s's queue, highest score first, with whoever holds each link right now.
SELECT l.id, l.platform, l.kind, l.code, l.canonical_url AS url, l.score, l.sightings, l.liveness,
       l.preview_title, l.member_count, l.first_seen, l.last_seen,
       t.reviewer AS claimed_by,
       EXISTS (SELECT 1 FROM triage_skips k WHERE k.link_id = l.id AND k.reviewer = %(reviewer)s
                 AND k.skipped_at > now() - %(skip_seconds)s * interval '1 second') AS skipped
FROM links l
LEFT JOIN triage_leases t ON t.link_id = l.id AND t.expires_at > now()
WHERE l.status = 'new'
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.link_id = l.id AND r.reviewer = %(reviewer)s)
ORDER BY l.score DESC, l.id
LIMIT %(limit)s
