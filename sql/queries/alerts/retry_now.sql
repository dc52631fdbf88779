-- `alerts send --retry-now`: alerts waiting for their next try, and those that gave up (failed),
-- become due now; their attempts are kept.
UPDATE alert_outbox
SET status = 'pending', next_attempt_at = now()
WHERE status IN ('pending', 'failed') AND target = ANY(%(keys)s)
