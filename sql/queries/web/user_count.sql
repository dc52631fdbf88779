SELECT count(*) FILTER (WHERE disabled_at IS NULL), count(*) FILTER (WHERE disabled_at IS NULL AND role = 'admin')
FROM web_users
