-- The link's shown status (v_link_status), its row locked: two reviewers deciding on the same link
-- at the same moment are serialised.
SELECT ls.status
FROM links l
JOIN v_link_status ls ON ls.link_id = l.id
WHERE l.id = %(id)s
FOR UPDATE OF l
