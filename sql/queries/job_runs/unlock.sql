SELECT pg_advisory_unlock(%(namespace)s, hashtext(%(job)s))
