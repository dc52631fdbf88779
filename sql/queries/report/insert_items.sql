-- A new referral's items, in one statement: referral id, then parallel arrays in ref order.
INSERT INTO referral_items (referral_id, link_id, ref, reason, referred_at)
SELECT %(referral_id)s, link_id, ref, reason, referred_at
FROM unnest(%(link_ids)s::bigint[], %(refs)s::text[], %(reasons)s::text[], %(referred_at)s::timestamptz[])
    AS t (link_id, ref, reason, referred_at)
