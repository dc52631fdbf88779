UPDATE referrals SET out_dir = %(out_dir)s, files = %(files)s, counts = %(counts)s, updated_at = now()
WHERE id = %(id)s
