-- One sighting per (link, post): the same post seen again (a re-crawl, a new version of its page,
-- another URL that shows it) adds nothing. Each link's count grows by the sightings really inserted,
-- on link rows upsert_links already holds locked in this transaction.
-- Returns the number of sightings inserted.
WITH ins AS (
    INSERT INTO sightings (link_id, page_id, crawl_run_id, seen_at, raw, obfuscated, found_in,
                           context, score, post_key)
    SELECT DISTINCT ON (l.id, s.post_key)
           l.id, p.page_id, %(run_id)s, p.fetched_at, s.raw, s.obfuscated, s.found_in,
           s.context, s.score, s.post_key
    FROM lw_stage_sightings s
    JOIN lw_stage_pages p ON p.ord = s.page_ord
    JOIN links l ON l.canonical_url = s.canonical_url
    ORDER BY l.id, s.post_key, p.fetched_at, s.score DESC, s.obfuscated
    ON CONFLICT (link_id, post_key) DO NOTHING
    RETURNING link_id
), per_link AS (
    SELECT link_id, count(*) AS n FROM ins GROUP BY link_id
), counted AS (
    UPDATE links
    SET sightings = links.sightings + per_link.n
    FROM per_link
    WHERE links.id = per_link.link_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM counted)
