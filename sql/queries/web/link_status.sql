SELECT status FROM v_link_status WHERE link_id = %(id)s
