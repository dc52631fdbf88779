SELECT id FROM links WHERE id = %(i)s
