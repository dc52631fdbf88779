-- The takedown figure (report/takedown.sql) per platform: per referred link, from its first
-- referral to the first check after it that found the link dead.
WITH referred AS (
    SELECT link_id, min(referred_at) AS referred_at FROM referral_items GROUP BY link_id
), outcome AS (
    SELECT l.platform, r.referred_at,
           (SELECT min(c.checked_at) FROM link_checks c
            WHERE c.link_id = r.link_id AND c.result = 'dead' AND c.checked_at >= r.referred_at) AS dead_at
    FROM referred r
    JOIN links l ON l.id = r.link_id
)
SELECT
    platform,
    count(*) AS referred,
    count(dead_at) AS dead,
    count(*) - count(dead_at) AS alive,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM dead_at - referred_at) / 3600.0)
        AS median_hours,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM dead_at - referred_at) / 3600.0)
        AS p90_hours
FROM outcome
GROUP BY platform
ORDER BY platform
