-- Keyset page after (%(after_key)s, %(after_id)s) in the order score DESC, id (the links_score index).
(l.score < %(after_key)s::real OR (l.score = %(after_key)s::real AND l.id > %(after_id)s))
