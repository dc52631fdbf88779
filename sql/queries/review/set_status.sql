UPDATE links SET status = %(status)s, category = COALESCE(%(category)s, category) WHERE id = %(id)s
