-- After insert_sightings, in the batch's transaction: one outbox row per (new link at or above the
-- threshold, target). The threshold is the source's alert_score (kept in sources.config by
-- upsert_source) when it has one, else the global one. Evidence: the link's best sighting in the batch.
-- Returns one row per alert enqueued.
WITH src AS (
    SELECT s.name, (s.config ->> 'alert_score')::real AS alert_score
    FROM crawl_runs r
    JOIN sources s ON s.id = r.source_id
    WHERE r.id = %(run_id)s
), threshold AS (
    SELECT coalesce((SELECT alert_score FROM src), %(score)s::real) AS score,
           (SELECT name FROM src) AS source
), fresh AS (
    SELECT l.id, l.score
    FROM lw_stage_new_links n
    JOIN links l ON l.canonical_url = n.canonical_url
    CROSS JOIN threshold t
    WHERE l.score >= t.score
), evidence AS (
    SELECT DISTINCT ON (f.id) f.id, f.score, p.url, si.context, si.seen_at
    FROM fresh f
    JOIN sightings si ON si.link_id = f.id
    JOIN pages p ON p.id = si.page_id
    ORDER BY f.id, si.score DESC, si.seen_at, p.url
)
INSERT INTO alert_outbox (link_id, target, target_label, source, crawl_run_id, threshold, score, page_url,
                          context, found_at)
SELECT e.id, t.key, t.label, th.source, %(run_id)s, th.score, e.score, e.url, e.context, e.seen_at
FROM evidence e
CROSS JOIN threshold th
CROSS JOIN unnest(%(keys)s::text[], %(labels)s::text[]) AS t (key, label)
ORDER BY e.id, t.key
ON CONFLICT (link_id, target) DO NOTHING
RETURNING id
