-- Links ever referred, and confirmed links not referred yet (what the next weekly referral holds,
-- unless known dead): links.status keeps the triage decision, referral_items the referral.
SELECT
    (SELECT count(DISTINCT link_id) FROM referral_items) AS referred,
    (SELECT count(*) FROM links l
     WHERE l.status = 'confirmed'
       AND NOT EXISTS (SELECT 1 FROM referral_items ri WHERE ri.link_id = l.id)) AS awaiting_referral
