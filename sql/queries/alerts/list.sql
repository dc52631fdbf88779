-- `alerts list`: the newest alerts first, optionally of one status.
SELECT o.id, o.link_id, l.platform, l.code, l.canonical_url AS url, o.score, o.threshold, o.source,
       o.target_label AS target, o.status, o.attempts, o.last_error, o.created_at, o.next_attempt_at,
       o.sent_at, o.page_url, o.context
FROM alert_outbox o
JOIN links l ON l.id = o.link_id
WHERE (%(status)s::text IS NULL OR o.status = %(status)s)
ORDER BY o.created_at DESC, o.id DESC
LIMIT %(limit)s
