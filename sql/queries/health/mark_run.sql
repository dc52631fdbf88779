-- Closes a crawl run left 'running' by a process that is gone (interrupted) or was killed (failed).
UPDATE crawl_runs
SET status = %(status)s,
    finished_at = COALESCE(finished_at, now()),
    stats = stats || jsonb_build_object('closed_by', %(closed_by)s::text, 'reason', %(reason)s::text)
WHERE id = %(id)s AND status = 'running'
