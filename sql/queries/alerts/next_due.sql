-- Seconds until the next pending alert for the configured targets is due (NULL: none pending).
SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()))::float8
FROM alert_outbox
WHERE status = 'pending' AND target = ANY(%(keys)s)
