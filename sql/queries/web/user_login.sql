UPDATE web_users SET last_login_at = now() WHERE id = %(id)s
