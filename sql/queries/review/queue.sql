-- The triage queue for one reviewer: new links, highest score first, minus those they already decided.
SELECT l.id, l.platform, l.kind, l.code, l.canonical_url AS url, l.score, l.sightings,
       l.first_seen, l.last_seen, l.liveness, l.preview_title, l.member_count
FROM links l
WHERE l.status = 'new'
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.link_id = l.id AND r.reviewer = %(reviewer)s)
ORDER BY l.score DESC, l.id
LIMIT %(limit)s
