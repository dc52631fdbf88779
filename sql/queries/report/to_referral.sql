-- Time from first sighting to first referral, per referred link, summarised.
WITH referred AS (
    SELECT ri.link_id, min(ri.referred_at) AS referred_at FROM referral_items ri GROUP BY ri.link_id
)
SELECT
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.referred_at - l.first_seen) / 3600.0)
        AS median_hours,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM r.referred_at - l.first_seen) / 3600.0)
        AS p90_hours
FROM referred r JOIN links l ON l.id = r.link_id
