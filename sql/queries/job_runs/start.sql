INSERT INTO job_runs (job, scheduled_for, host, scheduler_pid)
VALUES (%(job)s, %(scheduled_for)s, %(host)s, %(scheduler_pid)s)
RETURNING id, started_at
