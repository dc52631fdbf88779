-- The next due alert for one of the configured targets, locked for this sender until it commits;
-- SKIP LOCKED lets several senders (a crawl, `alerts send`, the scheduler) share the outbox.
SELECT o.id, o.link_id, o.target, o.target_label, o.source, o.crawl_run_id, o.threshold, o.score,
       o.page_url, o.context, o.found_at, o.attempts, l.platform, l.kind, l.code, l.canonical_url
FROM alert_outbox o
JOIN links l ON l.id = o.link_id
WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND o.target = ANY(%(keys)s)
ORDER BY o.next_attempt_at, o.id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED
