-- Serialises two exports of one week (in the exporting transaction); the unique period is the last
-- word either way.
SELECT pg_advisory_xact_lock(hashtext('linkwatch-referral'), %(week)s)
