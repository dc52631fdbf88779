UPDATE web_users SET disabled_at = NULL WHERE name = %(name)s RETURNING id
