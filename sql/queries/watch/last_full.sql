-- When the source's last full crawl began (finished, or interrupted and resumed to its end), and how
-- many pages it has state for: the planner's choice between a full and an incremental crawl.
SELECT (SELECT max(started_at) FROM crawl_runs
        WHERE source_id = %(source_id)s AND mode = 'full' AND status = 'finished'),
       (SELECT count(*) FROM url_state WHERE source_id = %(source_id)s)
