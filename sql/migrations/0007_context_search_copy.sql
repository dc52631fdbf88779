-- Store throughput (issue #3). Keeping the trigram index on sightings.context current was two
-- thirds of the server CPU of a sighting's insert (16.5 of 23.5 us, bench.ingest --profile), all
-- of it on the one backend that writes the batch while the other core waited. The index moves to
-- sighting_texts, a search copy of each sighting's context, which a second connection fills just
-- behind the writer (pipelines/text_index.py), on the other core.
--
-- Nothing can be missed: a statement trigger queues the id range of every insert into sightings,
-- in the inserting transaction and whoever inserts; the indexer fills a range's texts and takes it
-- off the queue in one transaction; and the text search also reads the few sightings still queued
-- (sql/queries/links/text_match.sql), so a sighting is found by --text the moment it is committed.
-- sightings.context stays the record; sighting_texts can always be rebuilt from it.
CREATE TABLE sighting_texts (
    sighting_id  bigint PRIMARY KEY,
    link_id      bigint NOT NULL,
    context      text NOT NULL
);

CREATE TABLE sighting_text_queue (
    id        bigserial PRIMARY KEY,
    first_id  bigint NOT NULL,
    last_id   bigint NOT NULL
);

INSERT INTO sighting_texts (sighting_id, link_id, context)
SELECT id, link_id, context FROM sightings;
CREATE INDEX sighting_texts_context_trgm ON sighting_texts USING gin (context gin_trgm_ops);
DROP INDEX sightings_context_trgm;

-- One queue row per statement, not per sighting: a stored batch of ~5,000 sightings adds one.
CREATE FUNCTION lw_queue_sighting_texts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sighting_text_queue (first_id, last_id)
    SELECT min(id), max(id) FROM new_sightings HAVING count(*) > 0;
    RETURN NULL;
END $$;

CREATE TRIGGER sightings_queue_texts AFTER INSERT ON sightings
    REFERENCING NEW TABLE AS new_sightings
    FOR EACH STATEMENT EXECUTE FUNCTION lw_queue_sighting_texts();

-- linkwatch never updates or deletes sightings; a change made by hand in psql reaches the copy too.
CREATE FUNCTION lw_requeue_sighting_texts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sighting_texts t USING old_sightings o WHERE t.sighting_id = o.id;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO sighting_text_queue (first_id, last_id)
        SELECT min(id), max(id) FROM new_sightings HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER sightings_update_texts AFTER UPDATE ON sightings
    REFERENCING OLD TABLE AS old_sightings NEW TABLE AS new_sightings
    FOR EACH STATEMENT EXECUTE FUNCTION lw_requeue_sighting_texts();

CREATE TRIGGER sightings_delete_texts AFTER DELETE ON sightings
    REFERENCING OLD TABLE AS old_sightings
    FOR EACH STATEMENT EXECUTE FUNCTION lw_requeue_sighting_texts();

-- DELETE, not TRUNCATE: a TRUNCATE naming all three tables (as the tests' does) would refuse a
-- second TRUNCATE of them from inside its own trigger.
CREATE FUNCTION lw_truncate_sighting_texts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sighting_texts;
    DELETE FROM sighting_text_queue;
    RETURN NULL;
END $$;

CREATE TRIGGER sightings_truncate_texts AFTER TRUNCATE ON sightings
    FOR EACH STATEMENT EXECUTE FUNCTION lw_truncate_sighting_texts();
