-- The takedown figure: per referred link, from its first referral to the first check after it that
-- found the link dead; summarised as counts and median / p90 hours. A link not found dead since is
-- counted by its last check: alive (live), unknown, or unchecked (never checked): never alive by default.
WITH referred AS (
    SELECT link_id, min(referred_at) AS referred_at FROM referral_items GROUP BY link_id
), outcome AS (
    SELECT r.link_id, r.referred_at, l.liveness,
           (SELECT min(c.checked_at) FROM link_checks c
            WHERE c.link_id = r.link_id AND c.result = 'dead' AND c.checked_at >= r.referred_at) AS dead_at
    FROM referred r JOIN links l ON l.id = r.link_id
)
SELECT
    count(*) AS referred,
    count(dead_at) AS dead,
    count(*) FILTER (WHERE dead_at IS NULL AND liveness = 'live') AS alive,
    count(*) FILTER (WHERE dead_at IS NULL AND liveness = 'unchecked') AS unchecked,
    -- unknown, and a link dead before it was referred (not a takedown of this referral)
    count(*) FILTER (WHERE dead_at IS NULL AND liveness NOT IN ('live', 'unchecked')) AS unknown,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM dead_at - referred_at) / 3600.0)
        AS median_hours,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM dead_at - referred_at) / 3600.0)
        AS p90_hours
FROM outcome
