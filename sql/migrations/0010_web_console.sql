-- The web console and REST API (`linkwatch serve`, issue #15): people who log in, their sessions and
-- API tokens, and the triage leases that keep two analysts off the same link.
-- Secrets are never stored: passwords as argon2id hashes, session cookies and API tokens as the
-- sha256 of their random value (each is 256 random bits, so a fast hash is enough and a stolen
-- table gives no way in).

CREATE TABLE web_users (
    id                   bigserial PRIMARY KEY,
    -- The name is also the reviewer recorded on reviews and the actor in the audit log.
    name                 text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    role                 text NOT NULL CHECK (role IN ('investigator', 'analyst', 'regulator', 'admin')),
    password_hash        text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    last_login_at        timestamptz,
    disabled_at          timestamptz
);

CREATE TABLE web_sessions (
    token_hash    text PRIMARY KEY,               -- sha256 hex of the cookie's value
    user_id       bigint NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    csrf          text NOT NULL,                  -- the token every form of this session carries
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    token_hash    text NOT NULL UNIQUE,           -- sha256 hex of the token
    prefix        text NOT NULL,                  -- its first characters, to tell tokens apart in lists
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One analyst at a time per link: a claim is taken with FOR UPDATE SKIP LOCKED on the link row and
-- kept here until it is decided, skipped, released or expires.
CREATE TABLE triage_leases (
    link_id     bigint PRIMARY KEY REFERENCES links (id) ON DELETE CASCADE,
    reviewer    text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX triage_leases_reviewer ON triage_leases (reviewer);

-- Links an analyst skipped: not offered to them again for a while (others still get them).
CREATE TABLE triage_skips (
    reviewer    text NOT NULL,
    link_id     bigint NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    skipped_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (reviewer, link_id)
);

-- The thread a forum page belongs to, for "related links": the URL without its fragment and
-- without the usual pagination markers (?page=2, &p=3, /page/2, thread-2.html), so the pages of
-- one thread share a key. A heuristic: forums that paginate otherwise simply have one page a thread.
CREATE FUNCTION lw_thread_key(url text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT rtrim(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    split_part(url, '#', 1),
                    '([?&])(page|p|pg|cpage|pageno|page_no|start|offset)=[^&]*', '\1', 'gi'),
                '([?&])&+', '\1', 'g'),
            '/page/[0-9]{1,5}/?(\?|$)|[-_][0-9]{1,4}(\.[a-z]{2,5})(\?|$)', '\1\2\3', 'i'),
        '?&')
$$;
