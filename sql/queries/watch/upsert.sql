-- A batch of url_state rows from one crawl, in key order (concurrent workers lock rows alike). A row
-- another worker fetched later than this crawl did is kept as it is.
INSERT INTO url_state AS s (source_id, url, fetch_url, fetched_at, kind, listing_page, etag, last_modified,
                            sha256, fetches, changes, unchanged_runs, next_due, signature, observed,
                            last_page, last_page_no, listed_at)
SELECT %(source_id)s, url, fetch_url, fetched_at, kind, listing_page, etag, last_modified, sha256, fetches,
       changes, unchanged_runs, next_due, signature, observed, last_page, last_page_no, listed_at
FROM lw_stage_url_state
ORDER BY url
ON CONFLICT (source_id, url) DO UPDATE
SET fetch_url = EXCLUDED.fetch_url,
    fetched_at = EXCLUDED.fetched_at,
    kind = EXCLUDED.kind,
    listing_page = EXCLUDED.listing_page,
    etag = EXCLUDED.etag,
    last_modified = EXCLUDED.last_modified,
    sha256 = EXCLUDED.sha256,
    fetches = EXCLUDED.fetches,
    changes = EXCLUDED.changes,
    unchanged_runs = EXCLUDED.unchanged_runs,
    next_due = EXCLUDED.next_due,
    signature = EXCLUDED.signature,
    observed = EXCLUDED.observed,
    last_page = EXCLUDED.last_page,
    last_page_no = EXCLUDED.last_page_no,
    listed_at = EXCLUDED.listed_at
WHERE s.fetched_at <= EXCLUDED.fetched_at
