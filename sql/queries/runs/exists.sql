SELECT 1 FROM crawl_runs WHERE id = %(run_id)s
