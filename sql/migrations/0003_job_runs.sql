-- Scheduler ledger: every job `linkwatch schedule` starts (crawl of a source, liveness checks,
-- weekly report) with start, end, outcome and exit code; `schedule --once` reads it to know what is due.

CREATE TABLE job_runs (
    id             bigserial PRIMARY KEY,
    job            text NOT NULL,                 -- crawl:<source> | check | report
    scheduled_for  timestamptz,                   -- the cron fire time this run covers
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    outcome        text NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running', 'ok', 'failed', 'timeout', 'skipped', 'interrupted')),
    exit_code      integer,
    host           text,
    pid            integer,                       -- the child process
    scheduler_pid  integer,
    detail         text
);
CREATE INDEX job_runs_job_started ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_running ON job_runs (outcome) WHERE outcome = 'running';
