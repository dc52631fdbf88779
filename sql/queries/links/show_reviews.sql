SELECT created_at, reviewer, decision, category, note
FROM reviews WHERE link_id = %(id)s ORDER BY created_at, id
