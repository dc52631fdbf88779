-- One row per sighting (a link in a post) with the page (evidence) and source it came from, for psql users.
CREATE OR REPLACE VIEW v_sightings AS
SELECT
    s.id,
    s.link_id,
    l.canonical_url,
    l.platform,
    l.kind,
    s.seen_at,
    s.raw,
    s.obfuscated,
    s.found_in,
    s.context,
    p.id          AS page_id,
    p.url         AS page_url,
    p.title       AS page_title,
    p.sha256      AS page_sha256,
    p.fetched_at  AS page_fetched_at,
    p.warc_file,
    src.name      AS source,
    s.post_key    -- the post that advertised the link (linkwatch.posts)
FROM sightings s
JOIN links l ON l.id = s.link_id
JOIN pages p ON p.id = s.page_id
LEFT JOIN crawl_runs cr ON cr.id = COALESCE(s.crawl_run_id, p.crawl_run_id)
LEFT JOIN sources src ON src.id = cr.source_id;

GRANT SELECT ON v_sightings TO linkwatch_readonly;
