INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)
