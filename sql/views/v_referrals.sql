-- One row per referred link: which weekly referral, why, and whether it has been taken down since.
CREATE OR REPLACE VIEW v_referrals AS
SELECT
    rf.period,
    ri.ref,
    ri.reason,
    ri.referred_at,
    l.id AS link_id,
    l.platform,
    l.kind,
    l.canonical_url,
    l.category,
    l.liveness,
    l.checked_at,
    (SELECT min(c.checked_at) FROM link_checks c
     WHERE c.link_id = l.id AND c.result = 'dead' AND c.checked_at >= ri.referred_at) AS dead_at,
    (SELECT min(c.checked_at) FROM link_checks c
     WHERE c.link_id = l.id AND c.result = 'dead' AND c.checked_at >= ri.referred_at)
        - ri.referred_at AS takedown
FROM referral_items ri
JOIN referrals rf ON rf.id = ri.referral_id
JOIN links l ON l.id = ri.link_id;

GRANT SELECT ON v_referrals TO linkwatch_readonly;
