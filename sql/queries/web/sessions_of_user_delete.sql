DELETE FROM web_sessions WHERE user_id = %(user_id)s
