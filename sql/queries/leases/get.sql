SELECT holder, host, pid, expires_at > now() AS live FROM crawl_leases WHERE source_id = %(source_id)s
