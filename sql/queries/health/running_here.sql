-- Crawl runs still marked running on this host, with their process id, to check against the OS.
SELECT id, pid, started_at FROM crawl_runs WHERE status = 'running' AND host = %(host)s
