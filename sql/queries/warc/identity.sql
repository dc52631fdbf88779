-- What makes this database itself among every PostgreSQL there is: the cluster's system identifier
-- (random at initdb) and the database's OID; its name for people. Capture files are named by them.
SELECT s.system_identifier, d.oid, d.datname
FROM pg_control_system() AS s, pg_database AS d
WHERE d.datname = current_database()
