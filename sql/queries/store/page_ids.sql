-- Staged pages whose version was already stored get its id.
UPDATE lw_stage_pages s
SET page_id = p.id
FROM pages p
WHERE s.page_id IS NULL AND p.url = s.url AND p.sha256 = s.sha256
