UPDATE job_runs SET pid = %(pid)s WHERE id = %(id)s
