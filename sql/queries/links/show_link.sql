SELECT
    l.id, l.platform, l.kind, l.code, l.canonical_url AS url,
    l.first_seen, l.last_seen, l.sightings, l.score,
    ls.status,
    l.category,
    l.liveness, l.checked_at, l.dead_at, l.preview_title, l.preview_description, l.member_count
FROM links l
JOIN v_link_status ls ON ls.link_id = l.id
WHERE l.id = %(id)s
