INSERT INTO web_sessions (token_hash, user_id, csrf, expires_at)
VALUES (%(token_hash)s, %(user_id)s, %(csrf)s, now() + %(idle)s * interval '1 second')
