DELETE FROM crawl_leases WHERE source_id = %(source_id)s AND holder = %(holder)s
