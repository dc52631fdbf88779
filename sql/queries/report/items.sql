-- A recorded referral's items, in ref order.
SELECT link_id, ref, reason, referred_at FROM referral_items WHERE referral_id = %(referral_id)s ORDER BY ref
