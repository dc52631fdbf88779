INSERT INTO audit_log (actor, action, target, detail) VALUES (%(actor)s, %(action)s, %(target)s, %(detail)s)
