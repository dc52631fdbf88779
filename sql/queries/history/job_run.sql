-- `linkwatch runs job ID`: one job run with the tail of its output.
SELECT id, job, scheduled_for, started_at, finished_at,
       extract(epoch FROM finished_at - started_at)::float8 AS seconds, outcome,
       exit_code, host, pid, scheduler_pid, detail
FROM job_runs
WHERE id = %(id)s
