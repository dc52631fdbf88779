DELETE FROM triage_leases WHERE link_id = %(link_id)s AND reviewer = %(reviewer)s
