-- Ends %(reviewer)s's leases, all of them or all but %(keep)s.
DELETE FROM triage_leases WHERE reviewer = %(reviewer)s AND link_id IS DISTINCT FROM %(keep)s
