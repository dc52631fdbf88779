-- One sighting per (link, page version); a repeat adds nothing. Sightings on new page versions were
-- already counted by upsert_links; the rare new sighting on an already-stored version (e.g. a link
-- the extractor did not know before) is counted here, on rows this batch already holds locked.
-- Returns the number of sightings inserted.
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
    RETURNING link_id, page_id
), on_old_pages AS (
    SELECT link_id, count(*) AS n
    FROM ins
    WHERE page_id NOT IN (SELECT page_id FROM lw_stage_pages WHERE is_new)
    GROUP BY link_id
), counted AS (
    UPDATE links
    SET sightings = links.sightings + o.n
    FROM on_old_pages o
    WHERE links.id = o.link_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM counted)
