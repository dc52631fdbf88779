INSERT INTO referrals (period, created_at, updated_at, out_dir)
VALUES (%(period)s, %(now)s, %(now)s, %(out_dir)s)
RETURNING id, created_at
