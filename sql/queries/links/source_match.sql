-- Links seen on pages crawled from any of the sources named in %(sources)s. The store writes the run
-- on every sighting, so one correlated probe per link suffices: walking links in score order and
-- probing stops after one page, where collecting all of a big source's links took seconds.
EXISTS (
    SELECT 1 FROM sightings s
    WHERE s.link_id = l.id
      AND s.crawl_run_id IN (
          SELECT cr.id FROM crawl_runs cr JOIN sources so ON so.id = cr.source_id
          WHERE so.name = ANY(%(sources)s)
      )
)
