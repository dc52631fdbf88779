SELECT pg_try_advisory_lock(%(namespace)s, hashtext(%(job)s))
