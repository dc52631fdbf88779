-- Per-connection staging tables for one batch; ON COMMIT DELETE ROWS empties them after each batch.
CREATE TEMP TABLE IF NOT EXISTS lw_stage_pages (
    ord           integer NOT NULL,
    url           text NOT NULL,
    sha256        text NOT NULL,
    version       text,                              -- sha256 without volatile parts; NULL: unknown
    fetched_at    timestamptz NOT NULL,
    http_status   integer,
    content_type  text,
    title         text,
    rendered      boolean NOT NULL,
    bytes         integer,
    warc_file     text,
    warc_offset   bigint,
    warc_length   bigint,
    page_id       bigint,
    is_new        boolean NOT NULL DEFAULT false   -- inserted by this batch: its sightings are all new
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lw_stage_sightings (
    page_ord       integer NOT NULL,
    platform       text NOT NULL,
    kind           text NOT NULL,
    code           text NOT NULL,
    canonical_url  text NOT NULL,
    raw            text NOT NULL,
    obfuscated     boolean NOT NULL,
    found_in       text NOT NULL,
    context        text NOT NULL,
    score          real NOT NULL,
    post_key       text NOT NULL                      -- the post that carries the link (linkwatch.posts)
) ON COMMIT DELETE ROWS;
