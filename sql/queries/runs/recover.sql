-- A run whose process died before it could record its end (killed, out of memory, the machine went
-- down): its figures as far as its crawl journal shows them. A run that recorded its own end keeps it.
UPDATE crawl_runs
SET status = CASE WHEN status = 'running' THEN 'interrupted' ELSE status END,
    finished_at = COALESCE(finished_at, now()),
    pages = GREATEST(pages, %(pages)s),
    links = GREATEST(links, %(links)s),
    stats = stats || jsonb_build_object('recovered_from_journal', true)
WHERE id = %(run_id)s
  AND (status = 'running' OR (status = 'interrupted' AND pages = 0 AND links = 0))
