INSERT INTO web_users (name, role, password_hash) VALUES (%(name)s, %(role)s, %(hash)s)
RETURNING id, name, role, created_at, last_login_at, disabled_at
