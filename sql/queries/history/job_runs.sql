-- `linkwatch runs jobs`: the scheduler's job runs, newest first.
SELECT id, job, scheduled_for, started_at, finished_at,
       extract(epoch FROM finished_at - started_at)::float8 AS seconds, outcome,
       exit_code, host, pid
FROM job_runs
WHERE (%(jobs)s::text[] IS NULL OR job = ANY(%(jobs)s::text[]))
  AND (%(outcomes)s::text[] IS NULL OR outcome = ANY(%(outcomes)s::text[]))
  AND (%(since)s::timestamptz IS NULL OR started_at >= %(since)s::timestamptz)
ORDER BY started_at DESC, id DESC
LIMIT %(limit)s
