-- Per-URL crawl state (issue #16): what each page of a source looked like when last fetched, and how it
-- looked from its parent listing, so that a crawl fetches only what can have changed. Shared by every
-- worker of a source (distributed crawls read and write it too).
CREATE TABLE url_state (
    source_id      bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    url            text NOT NULL,               -- the frontier key (linkwatch.scope.ViewIndex.key)
    fetch_url      text NOT NULL,               -- the URL as requested
    kind           text NOT NULL DEFAULT 'other'
                   CHECK (kind IN ('listing', 'topic', 'other', 'feed', 'sitemap')),
    listing_page   integer,                     -- a listing's page number in its pager (1: first page)
    fetched_at     timestamptz NOT NULL,
    etag           text,
    last_modified  text,
    sha256         text,                        -- of the body as fetched
    fetches        integer NOT NULL DEFAULT 0,
    changes        integer NOT NULL DEFAULT 0,
    unchanged_runs integer NOT NULL DEFAULT 0,  -- fetches since it last changed (the interval grows)
    next_due       timestamptz,                 -- when it is revisited without a sign of change
    signature      text,                        -- normalised numbers/dates of its row in its parent
    observed       jsonb,                       -- the raw row values and where the row was
    last_page      text,                        -- a topic: the last page of it seen (its fetch URL)
    last_page_no   integer,                     -- and that page's number
    listed_at      timestamptz,                 -- the date a feed or sitemap last gave for it
    PRIMARY KEY (source_id, url)
);

-- Per-run figures of the incremental crawl.
ALTER TABLE crawl_runs
    ADD COLUMN mode text,                               -- full | incremental (NULL: before #16)
    ADD COLUMN skipped_unchanged integer NOT NULL DEFAULT 0,
    ADD COLUMN not_modified integer NOT NULL DEFAULT 0,
    ADD COLUMN new_pages integer NOT NULL DEFAULT 0;
