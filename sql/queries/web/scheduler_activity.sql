-- The scheduler's last sign of life: its latest job start or end, and the jobs running now.
SELECT max(greatest(started_at, COALESCE(finished_at, started_at))) AS last_activity,
       count(*) FILTER (WHERE outcome = 'running') AS running
FROM job_runs
