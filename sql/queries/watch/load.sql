-- A source's per-URL state, read once at the start of a crawl (the planner keeps it in memory).
SELECT url, fetch_url, fetched_at, kind, listing_page, etag, last_modified, sha256, fetches, changes,
       unchanged_runs, next_due, signature, observed, last_page, last_page_no, listed_at
FROM url_state
WHERE source_id = %(source_id)s
