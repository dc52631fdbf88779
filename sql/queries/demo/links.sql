-- The links the given crawl runs saw: the demo confirms them for its sample referral.
SELECT DISTINCT link_id FROM sightings WHERE crawl_run_id = ANY(%(run_ids)s) ORDER BY 1
