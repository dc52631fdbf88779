SELECT id, created_at FROM referrals WHERE period = %(period)s
