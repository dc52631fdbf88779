-- A referral's links in referral-id order, keyset-paginated by ref.
SELECT ri.ref, ri.reason, ri.referred_at, l.id AS link_id, l.platform, l.kind, l.code,
       l.canonical_url AS url, l.category, l.liveness, l.checked_at, l.dead_at, l.preview_title,
       l.member_count
FROM referral_items ri
JOIN referrals rf ON rf.id = ri.referral_id
JOIN links l ON l.id = ri.link_id
WHERE rf.period = %(period)s
  AND (%(after)s::text IS NULL OR ri.ref > %(after)s::text)
ORDER BY ri.ref
LIMIT %(limit)s
