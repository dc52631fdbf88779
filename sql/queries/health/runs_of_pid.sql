SELECT id FROM crawl_runs
WHERE pid = %(pid)s AND host = %(host)s AND started_at >= %(since)s AND status = ANY(%(statuses)s)
