SELECT id, name, role, created_at, last_login_at, disabled_at, password_hash
FROM web_users WHERE name = %(name)s
