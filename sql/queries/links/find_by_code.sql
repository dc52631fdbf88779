SELECT id FROM links WHERE code = %(i)s LIMIT 5
