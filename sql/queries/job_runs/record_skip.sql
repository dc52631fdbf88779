INSERT INTO job_runs (job, scheduled_for, finished_at, outcome, host, scheduler_pid, detail)
VALUES (%(job)s, %(scheduled_for)s, now(), 'skipped', %(host)s, %(scheduler_pid)s, %(detail)s)
