-- Runs of this source still marked running while we hold its lock: their process died without
-- finishing (killed, machine rebooted). Same outcome `sources status` gives them.
UPDATE crawl_runs
SET status = 'interrupted', finished_at = coalesce(finished_at, now())
WHERE source_id = %(source_id)s AND status = 'running'
