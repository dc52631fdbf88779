-- Per-connection staging table for one batch of url_state rows (emptied at commit).
CREATE TEMP TABLE IF NOT EXISTS lw_stage_url_state (
    url            text NOT NULL,
    fetch_url      text NOT NULL,
    fetched_at     timestamptz NOT NULL,
    kind           text NOT NULL,
    listing_page   integer,
    etag           text,
    last_modified  text,
    sha256         text,
    fetches        integer NOT NULL,
    changes        integer NOT NULL,
    unchanged_runs integer NOT NULL,
    next_due       timestamptz,
    signature      text,
    observed       jsonb,
    last_page      text,
    last_page_no   integer,
    listed_at      timestamptz
) ON COMMIT DELETE ROWS;
