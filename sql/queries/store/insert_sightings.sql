-- One sighting per (link, page version); a repeat adds nothing. links.sightings grows by exactly the
-- sightings inserted here. Returns the number inserted.
WITH ins AS (
    INSERT INTO sightings (link_id, page_id, crawl_run_id, seen_at, raw, obfuscated, found_in,
                           context, score)
    SELECT DISTINCT ON (l.id, p.page_id)
           l.id, p.page_id, %(run_id)s, p.fetched_at, s.raw, s.obfuscated, s.found_in,
           s.context, s.score
    FROM lw_stage_sightings s
    JOIN lw_stage_pages p ON p.ord = s.page_ord
    JOIN links l ON l.canonical_url = s.canonical_url
    ORDER BY l.id, p.page_id, s.score DESC, s.obfuscated
    ON CONFLICT (link_id, page_id) DO NOTHING
    RETURNING link_id
), counted AS (
    UPDATE links
    SET sightings = links.sightings + c.n
    FROM (SELECT link_id, count(*) AS n FROM ins GROUP BY link_id) c
    WHERE links.id = c.link_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM counted)
