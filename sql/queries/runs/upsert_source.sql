-- A source from sources.toml (or an ad hoc --url source): insert or refresh its config; returns its id.
INSERT INTO sources (name, config, enabled, adhoc)
VALUES (%(name)s, %(config)s, %(enabled)s, %(adhoc)s)
ON CONFLICT (name) DO UPDATE
SET config = EXCLUDED.config,
    enabled = EXCLUDED.enabled,
    -- a configured source never turns back into an ad hoc one
    adhoc = sources.adhoc AND EXCLUDED.adhoc,
    updated_at = now()
RETURNING id
