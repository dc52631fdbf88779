-- `linkwatch links`: one page of links matching the filters composed in linkwatch/db/links.py.
-- The WHERE clause is a conjunction of fragments; every text filter goes through a pg_trgm GIN index.
SELECT
    l.id, l.platform, l.kind, l.code, l.canonical_url AS url,
    l.first_seen, l.last_seen, l.sightings, l.score,
    ls.status,
    l.category,
    l.liveness, l.checked_at, l.preview_title, l.member_count
FROM links l
JOIN v_link_status ls ON ls.link_id = l.id
WHERE {where}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s
