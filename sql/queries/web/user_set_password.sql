UPDATE web_users SET password_hash = %(hash)s, password_changed_at = now() WHERE name = %(name)s
RETURNING id
