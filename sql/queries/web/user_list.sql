-- Every user with how many live API tokens and sessions they have.
SELECT u.id, u.name, u.role, u.created_at, u.last_login_at, u.disabled_at,
       (SELECT count(*) FROM api_tokens t WHERE t.user_id = u.id AND t.revoked_at IS NULL) AS tokens,
       (SELECT count(*) FROM web_sessions s WHERE s.user_id = u.id AND s.expires_at > now()) AS sessions
FROM web_users u
ORDER BY u.name
