-- Pending alerts for the configured targets.
SELECT count(*) FROM alert_outbox WHERE status = 'pending' AND target = ANY(%(keys)s)
