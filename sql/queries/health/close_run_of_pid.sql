-- A run its scheduler stopped or killed: closed with the scheduler's reason.
UPDATE crawl_runs
SET status = %(status)s, finished_at = COALESCE(finished_at, now()),
    stats = stats || jsonb_build_object('closed_by', 'scheduler', 'reason', %(reason)s::text)
WHERE id = %(id)s AND status = ANY(%(statuses)s)
