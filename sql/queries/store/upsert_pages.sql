-- New page versions from the batch; a known (url, sha256), or a known (url, version_sha256) when only
-- volatile parts changed, is left as it is. Sorted so concurrent writers take their locks in the same
-- order and cannot deadlock. Staged rows of the versions inserted here get their id and is_new:
-- nobody else can have sightings on them yet.
WITH ins AS (
    INSERT INTO pages (url, sha256, version_sha256, fetched_at, http_status, content_type, title, rendered,
                       bytes, crawl_run_id, warc_file, warc_offset, warc_length)
    SELECT DISTINCT ON (url, sha256)
           url, sha256, version, fetched_at, http_status, content_type, title, rendered, bytes,
           %(run_id)s, warc_file, warc_offset, warc_length
    FROM lw_stage_pages
    ORDER BY url, sha256, fetched_at
    ON CONFLICT DO NOTHING
    RETURNING id, url, sha256, version_sha256
)
UPDATE lw_stage_pages s
SET page_id = ins.id, is_new = true
FROM ins
WHERE ins.url = s.url AND (ins.sha256 = s.sha256 OR ins.version_sha256 = s.version)
