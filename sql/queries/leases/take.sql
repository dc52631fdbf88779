-- Takes the source's lease if nobody holds it, or if it is held by `previous` (expired, or its process
-- gone): compare-and-set, so two crawls that both saw it free cannot both get it.
INSERT INTO crawl_leases (source_id, holder, host, pid, run_id, expires_at)
VALUES (%(source_id)s, %(holder)s, %(host)s, %(pid)s, %(run_id)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (source_id) DO UPDATE
SET holder = excluded.holder, host = excluded.host, pid = excluded.pid, run_id = excluded.run_id,
    acquired_at = now(), expires_at = excluded.expires_at
WHERE crawl_leases.holder = %(previous)s
RETURNING holder
