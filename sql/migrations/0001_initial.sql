-- linkwatch core schema: sources, crawl runs, captured pages, links, sightings, checks, reviews,
-- referrals and the audit log. Uniqueness constraints, not application code, keep duplicates out.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE sources (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    config      jsonb NOT NULL DEFAULT '{}'::jsonb,
    enabled     boolean NOT NULL DEFAULT true,
    adhoc       boolean NOT NULL DEFAULT false,   -- created by `crawl --url`, not from sources.toml
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crawl_runs (
    id             bigserial PRIMARY KEY,
    source_id      bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    status         text NOT NULL DEFAULT 'running'
                   CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    trigger        text NOT NULL DEFAULT 'manual',  -- manual | schedule | demo | resume
    pages          integer NOT NULL DEFAULT 0,
    links          integer NOT NULL DEFAULT 0,
    new_links      integer NOT NULL DEFAULT 0,
    errors         integer NOT NULL DEFAULT 0,
    bytes          bigint NOT NULL DEFAULT 0,
    media_refused  integer NOT NULL DEFAULT 0,
    stats          jsonb NOT NULL DEFAULT '{}'::jsonb,   -- the full Scrapy stats at the end
    host           text,
    pid            integer,
    jobdir         text
);
CREATE INDEX crawl_runs_source_started ON crawl_runs (source_id, started_at DESC);
CREATE INDEX crawl_runs_running ON crawl_runs (status) WHERE status = 'running';

-- One row per page version: the same URL with the same body bytes is the same version.
CREATE TABLE pages (
    id            bigserial PRIMARY KEY,
    url           text NOT NULL,
    sha256        text NOT NULL,              -- hex digest of the body as fetched (or as rendered)
    fetched_at    timestamptz NOT NULL,
    http_status   integer,
    content_type  text,
    title         text,
    rendered      boolean NOT NULL DEFAULT false,
    bytes         integer,
    crawl_run_id  bigint REFERENCES crawl_runs (id) ON DELETE SET NULL,
    warc_file     text,                       -- path relative to the data directory
    warc_offset   bigint,
    warc_length   bigint,
    UNIQUE (url, sha256)
);
CREATE INDEX pages_run ON pages (crawl_run_id);
CREATE INDEX pages_title_trgm ON pages USING gin (title gin_trgm_ops);

CREATE TABLE links (
    id                   bigserial PRIMARY KEY,
    platform             text NOT NULL,
    kind                 text NOT NULL,
    code                 text NOT NULL,
    canonical_url        text NOT NULL UNIQUE,
    first_seen           timestamptz NOT NULL,
    last_seen            timestamptz NOT NULL,
    sightings            integer NOT NULL DEFAULT 0,
    score                real NOT NULL DEFAULT 0,
    status               text NOT NULL DEFAULT 'new'
                         CHECK (status IN ('new', 'confirmed', 'dismissed', 'referred')),
    category             text,
    liveness             text NOT NULL DEFAULT 'unchecked'
                         CHECK (liveness IN ('unchecked', 'live', 'dead', 'unknown')),
    checked_at           timestamptz,
    next_check_at        timestamptz,
    dead_at              timestamptz,              -- first check that found it dead (since last live)
    preview_title        text,
    preview_description  text,
    member_count         integer
);
CREATE INDEX links_platform_kind ON links (platform, kind);
CREATE INDEX links_status_score ON links (status, score DESC);
CREATE INDEX links_first_seen ON links (first_seen);
CREATE INDEX links_last_seen ON links (last_seen DESC);
CREATE INDEX links_score ON links (score DESC, id);
CREATE INDEX links_next_check ON links (next_check_at NULLS FIRST) WHERE liveness <> 'dead' OR next_check_at IS NOT NULL;
CREATE INDEX links_preview_title_trgm ON links USING gin (preview_title gin_trgm_ops);

-- A link seen on a page version; crawling the same page again adds nothing.
CREATE TABLE sightings (
    id            bigserial PRIMARY KEY,
    link_id       bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    page_id       bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    crawl_run_id  bigint REFERENCES crawl_runs (id) ON DELETE SET NULL,
    seen_at       timestamptz NOT NULL,
    raw           text NOT NULL,
    obfuscated    boolean NOT NULL DEFAULT false,
    found_in      text NOT NULL DEFAULT 'text',   -- href | text | attr | redirect | meta
    context       text NOT NULL DEFAULT '',
    score         real NOT NULL DEFAULT 0,
    UNIQUE (link_id, page_id)
);
CREATE INDEX sightings_page ON sightings (page_id);
CREATE INDEX sightings_run ON sightings (crawl_run_id);
CREATE INDEX sightings_context_trgm ON sightings USING gin (context gin_trgm_ops);

CREATE TABLE link_checks (
    id            bigserial PRIMARY KEY,
    link_id       bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    checked_at    timestamptz NOT NULL DEFAULT now(),
    result        text NOT NULL CHECK (result IN ('live', 'dead', 'unknown')),
    http_status   integer,
    title         text,
    description   text,
    member_count  integer,
    detail        text
);
CREATE INDEX link_checks_link ON link_checks (link_id, checked_at DESC);

CREATE TABLE reviews (
    id          bigserial PRIMARY KEY,
    link_id     bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    reviewer    text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('confirm', 'dismiss')),
    category    text,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_link ON reviews (link_id, created_at);

CREATE TABLE referrals (
    id          bigserial PRIMARY KEY,
    period      text NOT NULL UNIQUE,          -- ISO week, e.g. 2026-W47
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    out_dir     text,
    files       jsonb NOT NULL DEFAULT '{}'::jsonb,   -- file name -> sha256
    counts      jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE referral_items (
    referral_id  bigint NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    link_id      bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    ref          text NOT NULL UNIQUE,          -- the referral id shown to the regulator
    reason       text NOT NULL DEFAULT 'new' CHECK (reason IN ('new', 'readvertised')),
    referred_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (referral_id, link_id)
);
CREATE INDEX referral_items_link ON referral_items (link_id);

CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,        -- query | review | export | ...
    target  text,
    detail  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
