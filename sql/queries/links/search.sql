-- `linkwatch links`: one page of links matching the filters composed in pipelines/queries.py.
-- The WHERE clause is a conjunction of fragments; every text filter goes through a pg_trgm GIN index.
SELECT
    l.id, l.platform, l.kind, l.code, l.canonical_url AS url,
    l.first_seen, l.last_seen, l.sightings, l.score,
    -- Shown status: referred once a weekly referral lists the link (see queries.status_filter).
    CASE WHEN EXISTS (SELECT 1 FROM referral_items ri WHERE ri.link_id = l.id) THEN 'referred'
         ELSE l.status END AS status,
    l.category,
    l.liveness, l.checked_at, l.preview_title, l.member_count
FROM links l
WHERE {where}
ORDER BY {order}
LIMIT %(limit)s OFFSET %(offset)s
