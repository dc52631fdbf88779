-- Alerts: an outbox of notifications about new high-scoring links, one row per (link, target).
-- Rows are written in the same transaction that stores the new link (linkwatch.db.store), so a kill
-- never loses an alert, and UNIQUE (link_id, target) means a link is alerted once per target however
-- many workers or journal replays store it. Senders claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE alert_outbox (
    id               bigserial PRIMARY KEY,
    link_id          bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    target           text NOT NULL,   -- webhook:<digest> | email:<digest>: never the URL (it may hold a token)
    target_label     text NOT NULL,   -- what to show: scheme and host, or the recipients
    source           text,            -- the source whose crawl found the link (NULL: no crawl run)
    crawl_run_id     bigint REFERENCES crawl_runs (id) ON DELETE SET NULL,
    threshold        real NOT NULL,   -- the score the link reached or passed
    score            real NOT NULL,
    page_url         text NOT NULL,
    context          text NOT NULL,
    found_at         timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,            -- one sentence, no secrets
    sent_at          timestamptz,
    UNIQUE (link_id, target)
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_outbox_created ON alert_outbox (created_at DESC);
