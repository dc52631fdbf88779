-- Runs of this source still marked running while we hold its lock died without finishing (kill -9).
UPDATE crawl_runs
SET status = 'failed', finished_at = coalesce(finished_at, now())
WHERE source_id = %(source_id)s AND status = 'running'
