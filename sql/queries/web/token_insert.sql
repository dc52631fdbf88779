INSERT INTO api_tokens (user_id, token_hash, prefix) VALUES (%(user_id)s, %(token_hash)s, %(prefix)s)
