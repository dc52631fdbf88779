-- One row per link with its latest review and referral, for psql users (linkwatch_readonly).
CREATE OR REPLACE VIEW v_links AS
SELECT
    l.id,
    l.platform,
    l.kind,
    l.code,
    l.canonical_url,
    l.first_seen,
    l.last_seen,
    l.sightings,
    l.score,
    ls.status,
    l.category,
    l.liveness,
    l.checked_at,
    l.dead_at,
    l.preview_title,
    l.member_count,
    r.reviewer   AS last_reviewer,
    r.decision   AS last_decision,
    r.created_at AS last_reviewed_at,
    ri.ref       AS last_referral_ref,
    ri.referred_at AS last_referred_at
FROM links l
JOIN v_link_status ls ON ls.link_id = l.id
LEFT JOIN LATERAL (
    SELECT reviewer, decision, created_at FROM reviews
    WHERE link_id = l.id ORDER BY created_at DESC, id DESC LIMIT 1
) r ON true
LEFT JOIN LATERAL (
    SELECT ref, referred_at FROM referral_items
    WHERE link_id = l.id ORDER BY referred_at DESC LIMIT 1
) ri ON true;

GRANT SELECT ON v_links TO linkwatch_readonly;
