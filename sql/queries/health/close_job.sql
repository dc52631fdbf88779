UPDATE job_runs
SET outcome = 'interrupted', finished_at = COALESCE(finished_at, now()), detail = 'scheduler process is gone'
WHERE id = %(id)s AND outcome = 'running'
