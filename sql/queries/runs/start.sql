-- A crawl run begins; the row is updated by finish.sql at the end.
INSERT INTO crawl_runs (source_id, trigger, host, pid, jobdir)
VALUES (%(source_id)s, %(trigger)s, %(host)s, %(pid)s, %(jobdir)s)
RETURNING id
