-- Every staged page gets the id of its version, new or already stored.
UPDATE lw_stage_pages s
SET page_id = p.id
FROM pages p
WHERE p.url = s.url AND p.sha256 = s.sha256
