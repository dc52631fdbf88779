SELECT rf.period, ri.ref, ri.reason, ri.referred_at
FROM referral_items ri JOIN referrals rf ON rf.id = ri.referral_id
WHERE ri.link_id = %(id)s ORDER BY ri.referred_at
