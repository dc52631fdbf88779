-- Sightings that mean something (issue #16).
--
-- A page version is identified by its body without the parts that change on every request (session
-- ids, CSRF tokens, online counters, the render's time: linkwatch.volatile); pages.sha256 stays the
-- digest of the bytes captured, the evidence. Pages stored before this have no version: they keep
-- being matched by sha256, and their next fetch stores one more version that has it.
ALTER TABLE pages ADD COLUMN version_sha256 text;
CREATE UNIQUE INDEX pages_url_version ON pages (url, version_sha256);

-- A sighting is a link in a post, not a link on a page version: post_key names the post
-- (linkwatch.posts: `post:<host>/<number>`, or `page:<url>#<context hash>` when no post element
-- holds the link). links.sightings then counts the posts that advertised the link. Rows stored
-- before this were one per (link, page version): each keeps its own key, so they and the counts
-- stay as they were (the first re-crawl of such a page adds its posts' sightings once).
-- The backfill changes no context: the search copy (migration 0007) is left as it is.
ALTER TABLE sightings ADD COLUMN post_key text;
ALTER TABLE sightings DISABLE TRIGGER sightings_update_texts;
UPDATE sightings SET post_key = 'version:' || page_id;
ALTER TABLE sightings ENABLE TRIGGER sightings_update_texts;
ALTER TABLE sightings ALTER COLUMN post_key SET NOT NULL;
ALTER TABLE sightings ADD CONSTRAINT sightings_link_id_post_key_key UNIQUE (link_id, post_key);
-- A link in two posts of one page is two sightings now: (page, link) is no longer unique, but
-- lookups by page still need an index.
ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_page_id_link_id_key;
ALTER TABLE sightings DROP CONSTRAINT IF EXISTS sightings_link_id_page_id_key;
CREATE INDEX IF NOT EXISTS sightings_page ON sightings (page_id);
