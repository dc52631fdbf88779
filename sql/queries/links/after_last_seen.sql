-- Keyset page after (%(after_key)s, %(after_id)s) in the order last_seen DESC, id DESC (links_last_seen_id).
(l.last_seen, l.id) < (%(after_key)s::timestamptz, %(after_id)s)
