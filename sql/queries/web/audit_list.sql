-- The audit log, newest first, filtered, keyset-paginated by id.
SELECT a.id, a.at, a.actor, a.action, a.target, a.detail
FROM audit_log a
WHERE (%(actor)s::text IS NULL OR a.actor = %(actor)s::text)
  AND (%(action)s::text IS NULL OR a.action = %(action)s::text)
  AND (%(target)s::text IS NULL OR a.target = %(target)s::text)
  AND (%(since)s::timestamptz IS NULL OR a.at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.at < %(until)s::timestamptz)
  AND (%(before)s::bigint IS NULL OR a.id < %(before)s::bigint)
ORDER BY a.id DESC
LIMIT %(limit)s
