-- Whether a crawl run is full or incremental (decided when it starts).
UPDATE crawl_runs SET mode = %(mode)s WHERE id = %(run_id)s
