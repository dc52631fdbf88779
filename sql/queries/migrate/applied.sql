SELECT name, checksum, applied_at FROM schema_migrations
