SELECT job, max(started_at) FROM job_runs GROUP BY job
