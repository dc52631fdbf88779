-- Links for a weekly referral that has not been recorded yet:
--  * new: confirmed by triage, not referred before, first seen before the week ended, not known dead;
--  * readvertised: referred before, seen again after their last referral (within the week), still live.
-- "Referred" means listed in referral_items; links.status keeps the triage decision.
SELECT l.id, 'new' AS reason, l.first_seen
FROM links l
WHERE l.status = 'confirmed'
  AND l.first_seen < %(week_end)s
  AND l.liveness <> 'dead'
  AND NOT EXISTS (SELECT 1 FROM referral_items ri WHERE ri.link_id = l.id)
UNION ALL
SELECT l.id, 'readvertised' AS reason, l.first_seen
FROM (
    SELECT ri.link_id, max(ri.referred_at) AS last_referred FROM referral_items ri GROUP BY ri.link_id
) last
JOIN links l ON l.id = last.link_id
WHERE l.liveness = 'live'
  AND EXISTS (
      SELECT 1 FROM sightings s
      WHERE s.link_id = l.id AND s.seen_at > last.last_referred AND s.seen_at < %(week_end)s
  )
ORDER BY reason, first_seen, id
