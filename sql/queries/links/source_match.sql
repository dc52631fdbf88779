-- Links seen on pages crawled from any of the sources named in %(sources)s.
l.id IN (
    WITH runs AS (
        SELECT cr.id FROM crawl_runs cr JOIN sources so ON so.id = cr.source_id
        WHERE so.name = ANY(%(sources)s)
    )
    SELECT s.link_id FROM sightings s WHERE s.crawl_run_id IN (SELECT id FROM runs)
    UNION
    SELECT s.link_id FROM pages p JOIN sightings s ON s.page_id = p.id
    WHERE p.crawl_run_id IN (SELECT id FROM runs)
)
