UPDATE crawl_leases
SET expires_at = now() + make_interval(secs => %(ttl)s), run_id = COALESCE(%(run_id)s, run_id)
WHERE source_id = %(source_id)s AND holder = %(holder)s
