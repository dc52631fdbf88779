-- The live session's user (never a disabled one), its CSRF token and when it was last extended.
SELECT u.id, u.name, u.role, u.created_at, u.last_login_at, u.disabled_at,
       s.csrf, extract(epoch FROM now() - s.last_seen_at)::float8 AS idle_seconds
FROM web_sessions s
JOIN web_users u ON u.id = s.user_id
WHERE s.token_hash = %(token_hash)s
  AND s.expires_at > now()
  AND u.disabled_at IS NULL
