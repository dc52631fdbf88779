-- Investigators, triage and referrals: the read-only role for psql users and the indexes that the
-- `links`, `review` and `report` commands need. The views themselves live in sql/views/.

-- Roles are cluster-wide and many databases (tests, benchmarks) share one cluster, so creation
-- must tolerate the role existing already, including a concurrent creator winning the race.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'linkwatch_readonly') THEN
        CREATE ROLE linkwatch_readonly NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO linkwatch_readonly', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO linkwatch_readonly;
GRANT SELECT ON sources, crawl_runs, pages, links, sightings, link_checks, reviews,
    referrals, referral_items TO linkwatch_readonly;
-- audit_log is deliberately not granted: it records who searched for what.

-- Readvertised-since-referral and the per-link sighting lists read sightings by link in time order.
CREATE INDEX sightings_link_seen ON sightings (link_id, seen_at);
-- The takedown figure looks for the first dead check after a referral.
CREATE INDEX link_checks_dead ON link_checks (link_id, checked_at) WHERE result = 'dead';
-- Triage excludes links the reviewer already decided on; two-person counts read by link.
CREATE INDEX reviews_link_reviewer ON reviews (link_id, reviewer, created_at DESC);
-- Searching by the code alone (investigators paste codes, not URLs).
CREATE INDEX links_code ON links (code);
CREATE INDEX links_last_seen_id ON links (last_seen DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
