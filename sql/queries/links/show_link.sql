SELECT
    l.id, l.platform, l.kind, l.code, l.canonical_url AS url,
    l.first_seen, l.last_seen, l.sightings, l.score,
    CASE WHEN EXISTS (SELECT 1 FROM referral_items ri WHERE ri.link_id = l.id) THEN 'referred'
         ELSE l.status END AS status,
    l.category,
    l.liveness, l.checked_at, l.dead_at, l.preview_title, l.preview_description, l.member_count
FROM links l
WHERE l.id = %(id)s
