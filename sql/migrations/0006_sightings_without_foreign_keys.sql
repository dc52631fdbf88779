-- Store throughput (issue #3). Per sighting, the three foreign keys on sightings cost more server
-- CPU than the rest of its insert together: each is a lookup and a row lock on the parent row. Two
-- btrees were redundant as well. Through the batched store on the 2-core benchmark machine this
-- took 8,800-14,800 to 16,000-18,000 sightings/s (bench.ingest, same data and batch size).
--
-- What the keys guarded is kept by construction: the store is the only writer of sightings, and
-- insert_sightings.sql takes every link_id from a join with links and every page_id from pages
-- rows of the same transaction; nothing in linkwatch deletes links, pages or crawl runs. What
-- changes is a manual DELETE of a link or page in psql: its sightings now stay (evidence is not
-- cascaded away) instead of going with it. `linkwatch db check` counts such orphans.
ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_link_id_fkey;
ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_page_id_fkey;
ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_crawl_run_id_fkey;
-- Only the ON DELETE SET NULL above needed it; the demo's one lookup by run reads a small table.
DROP INDEX IF EXISTS sightings_run;
-- One btree fewer per sighting: the unique key led by page_id also serves lookups by page (the text
-- search joins page titles to their sightings), and sightings_link_seen (link_id, seen_at) serves
-- every lookup by link. ON CONFLICT (link_id, page_id) infers the index whatever its column order.
ALTER TABLE sightings ADD CONSTRAINT sightings_page_id_link_id_key UNIQUE (page_id, link_id);
ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_link_id_page_id_key;
DROP INDEX IF EXISTS sightings_page;
