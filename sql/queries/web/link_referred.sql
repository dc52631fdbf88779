SELECT EXISTS (SELECT 1 FROM referral_items WHERE link_id = %(id)s)
