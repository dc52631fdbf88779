-- Disabling ends the user's sessions and revokes their API tokens in the same transaction
-- (web/users.py runs the three statements together).
UPDATE web_users SET disabled_at = COALESCE(disabled_at, now()) WHERE name = %(name)s RETURNING id
