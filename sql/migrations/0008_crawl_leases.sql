-- A crawl's hold on its source that outlives its database session: the advisory lock dies with the
-- connection (a server restart freed it while the crawl went on, and a second crawl of the source
-- started). The holder renews its lease every few seconds; another crawl may take a lease only once it
-- has expired, or at once when its holder's process is gone from this host.

CREATE TABLE crawl_leases (
    source_id    bigint PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    holder       text NOT NULL,          -- host:pid:random, one per crawl process
    host         text NOT NULL,
    pid          integer NOT NULL,
    run_id       bigint,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
