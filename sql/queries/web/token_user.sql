-- The active user an API token belongs to (never a revoked token or a disabled user).
SELECT u.id, u.name, u.role, u.created_at, u.last_login_at, u.disabled_at, t.id AS token_id,
       extract(epoch FROM now() - t.last_used_at)::float8 AS unused_seconds
FROM api_tokens t
JOIN web_users u ON u.id = t.user_id
WHERE t.token_hash = %(token_hash)s
  AND t.revoked_at IS NULL
  AND u.disabled_at IS NULL
