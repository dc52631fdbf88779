UPDATE web_users SET role = %(role)s WHERE name = %(name)s
