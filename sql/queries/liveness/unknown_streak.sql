-- Consecutive 'unknown' checks of a link since its last definite (live/dead) check.
SELECT count(*)
FROM link_checks
WHERE link_id = %(link_id)s
  AND result = 'unknown'
  AND checked_at > COALESCE(
        (SELECT max(checked_at) FROM link_checks WHERE link_id = %(link_id)s AND result <> 'unknown'),
        '-infinity'::timestamptz)
