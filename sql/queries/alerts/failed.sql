-- A delivery failed: try again after `retry` seconds, or give up (failed) after `max_attempts`.
UPDATE alert_outbox
SET attempts = attempts + 1,
    last_error = %(error)s,
    status = CASE WHEN attempts + 1 >= %(max_attempts)s THEN 'failed' ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => %(retry)s)
WHERE id = %(id)s
RETURNING status
