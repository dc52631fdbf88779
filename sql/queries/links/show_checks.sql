SELECT checked_at, result, http_status, title, member_count, detail
FROM link_checks WHERE link_id = %(id)s ORDER BY checked_at, id
