-- Scheduler jobs still marked running on this host, with the scheduler's process id.
SELECT id, scheduler_pid, started_at FROM job_runs WHERE outcome = 'running' AND host = %(host)s
