-- Staged pages whose version was already stored get its id: the same bytes, or the same body but for
-- its volatile parts (session ids, tokens, counters, render time).
UPDATE lw_stage_pages s
SET page_id = p.id
FROM pages p
WHERE s.page_id IS NULL AND p.url = s.url AND (p.sha256 = s.sha256 OR p.version_sha256 = s.version)
