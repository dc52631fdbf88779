-- Other links whose invite preview shows the same title: a group re-issuing its invite code.
SELECT l.id, l.platform, l.kind, l.code, l.canonical_url AS url, l.preview_title, l.first_seen,
       l.last_seen, l.liveness, ls.status, l.preview_title AS via
FROM links l
JOIN v_link_status ls ON ls.link_id = l.id
WHERE l.preview_title = %(title)s AND l.id <> %(id)s
ORDER BY l.last_seen DESC, l.id DESC
LIMIT %(limit)s
