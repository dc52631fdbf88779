UPDATE job_runs SET finished_at = now(), outcome = %(outcome)s, exit_code = %(exit_code)s, detail = %(detail)s
WHERE id = %(id)s
