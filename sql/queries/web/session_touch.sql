-- Sliding expiry: idle seconds from now, never past the absolute limit from the session's creation.
UPDATE web_sessions
SET last_seen_at = now(),
    expires_at = least(now() + %(idle)s * interval '1 second', created_at + %(absolute)s * interval '1 second')
WHERE token_hash = %(token_hash)s
